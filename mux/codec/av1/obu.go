package av1

import (
	"errors"
	"fmt"
)

// OBU types kiroku acts on (AV1 specification §6.2.2).
const (
	obuSequenceHeader    = 1
	obuTemporalDelimiter = 2
	obuFrameHeader       = 3
	obuFrame             = 6
	obuTileList          = 8
	obuPadding           = 15
)

// ErrBadOBU reports a malformed OBU.
var ErrBadOBU = errors.New("av1: malformed OBU")

// obu is one parsed open bitstream unit: its header bytes (one, or two with
// the extension) and its payload, both slices of the input.
type obu struct {
	typ       uint8
	header    []byte
	payload   []byte
	temporal  uint8 // from the extension header, 0 without one
	spatial   uint8
	extension bool
}

// parseOBU reads one OBU that fills b exactly. Its size field, when present,
// must match the bytes that follow it.
func parseOBU(b []byte) (obu, error) {
	if len(b) < 1 {
		return obu{}, fmt.Errorf("%w: empty", ErrBadOBU)
	}
	h := b[0]
	if h&0x80 != 0 {
		return obu{}, fmt.Errorf("%w: forbidden bit set", ErrBadOBU)
	}
	o := obu{typ: h >> 3 & 0x0f, extension: h&0x04 != 0}
	hdrLen := 1
	if o.extension {
		if len(b) < 2 {
			return obu{}, fmt.Errorf("%w: truncated extension header", ErrBadOBU)
		}
		o.temporal, o.spatial = b[1]>>5, b[1]>>3&0x03
		hdrLen = 2
	}
	o.header, o.payload = b[:hdrLen], b[hdrLen:]
	if h&0x02 == 0 {
		return o, nil
	}
	size, n := readLEB128(o.payload)
	if n == 0 || size != uint64(len(o.payload)-n) {
		return obu{}, fmt.Errorf("%w: obu_size does not match its %d bytes", ErrBadOBU, len(o.payload)-n)
	}
	o.payload = o.payload[n:]
	return o, nil
}

// appendOBU appends o in low-overhead format: its header with
// obu_has_size_field set, the extension byte if any, obu_size and payload.
func appendOBU(dst []byte, o obu) []byte {
	dst = append(dst, o.header[0]|0x02)
	dst = append(dst, o.header[1:]...)
	dst = appendLEB128(dst, uint64(len(o.payload)))
	return append(dst, o.payload...)
}
