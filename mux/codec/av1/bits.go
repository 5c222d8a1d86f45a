package av1

// bitReader reads big-endian bit fields (AV1 specification §4.10.2, f(n)).
// Reading past the end yields zeros and marks the reader as overrun, so a
// parser checks once at the end instead of after every field.
type bitReader struct {
	b       []byte
	pos     int // in bits
	overrun bool
}

// u reads an n-bit unsigned value, n <= 32.
func (r *bitReader) u(n int) uint32 {
	var v uint32
	for range n {
		if r.pos >= 8*len(r.b) {
			r.overrun = true
			return 0
		}
		v = v<<1 | uint32(r.b[r.pos>>3]>>(7-r.pos&7)&1)
		r.pos++
	}
	return v
}

func (r *bitReader) flag() bool { return r.u(1) == 1 }

// uvlc reads a variable length unsigned value (§4.10.3).
func (r *bitReader) uvlc() uint32 {
	leadingZeros := 0
	for !r.flag() {
		if r.overrun {
			return 0
		}
		leadingZeros++
	}
	if leadingZeros >= 32 {
		return 1<<32 - 1
	}
	return r.u(leadingZeros) + (1<<leadingZeros - 1)
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
