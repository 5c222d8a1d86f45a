package av1

import "github.com/kiroku-sfu/kiroku/mux/codec/internal/bits"

// uvlc reads a variable length unsigned value (§4.10.3).
func uvlc(r *bits.Reader) uint32 {
	leadingZeros := 0
	for !r.Flag() {
		if r.Err() != nil {
			return 0
		}
		leadingZeros++
	}
	if leadingZeros >= 32 {
		return 1<<32 - 1
	}
	return r.Bits(leadingZeros) + (1<<leadingZeros - 1)
}

// maxLEB128Bytes is the longest leb128() the specification allows (§4.10.5).
const maxLEB128Bytes = 8

// readLEB128 decodes a leb128() value and returns it with the bytes it used,
// or n = 0 when b ends inside the value, it is longer than 8 bytes or its
// value exceeds 2^32 - 1.
func readLEB128(b []byte) (v uint64, n int) {
	for i := 0; i < maxLEB128Bytes && i < len(b); i++ {
		v |= uint64(b[i]&0x7f) << (7 * i)
		if b[i]&0x80 == 0 {
			if v > 1<<32-1 {
				return 0, 0
			}
			return v, i + 1
		}
	}
	return 0, 0
}

// appendLEB128 appends v in the shortest leb128() encoding.
func appendLEB128(dst []byte, v uint64) []byte {
	for v >= 0x80 {
		dst = append(dst, byte(v)|0x80)
		v >>= 7
	}
	return append(dst, byte(v))
}
