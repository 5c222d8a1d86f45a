package bits

// Writer builds bit strings, most significant bit first: the inverse of
// Reader, used to build NAL units and other headers field by field (tests
// and hand-made parameter sets). The zero value is ready to use.
type Writer struct {
	buf  []byte
	used uint // bits used in the last byte of buf; 0 means a new byte is due
}

// Bit appends one bit (the low bit of b).
func (w *Writer) Bit(b uint32) {
	if w.used == 0 {
		w.buf = append(w.buf, 0)
	}
	w.buf[len(w.buf)-1] |= byte(b&1) << (7 - w.used)
	w.used = (w.used + 1) % 8
}

// Flag appends one bit.
func (w *Writer) Flag(f bool) {
	if f {
		w.Bit(1)
	} else {
		w.Bit(0)
	}
}

// Bits appends the n low bits of v, most significant first.
func (w *Writer) Bits(n int, v uint64) {
	for i := n - 1; i >= 0; i-- {
		w.Bit(uint32(v >> uint(i)))
	}
}

// UE appends v as an unsigned exp-Golomb code.
func (w *Writer) UE(v uint32) {
	x := uint64(v) + 1
	n := 0
	for t := x; t > 1; t >>= 1 {
		n++
	}
	w.Bits(n, 0)
	w.Bits(n+1, x)
}

// SE appends v as a signed exp-Golomb code.
func (w *Writer) SE(v int32) {
	if v > 0 {
		w.UE(uint32(2*int64(v) - 1))
	} else {
		w.UE(uint32(-2 * int64(v)))
	}
}

// TrailingBits appends rbsp_trailing_bits: a one bit, then zero bits up to
// the byte boundary.
func (w *Writer) TrailingBits() {
	w.Bit(1)
	for w.used != 0 {
		w.Bit(0)
	}
}

// Bytes returns the bits written so far, the last byte zero-padded.
func (w *Writer) Bytes() []byte { return w.buf }

// Escape returns rbsp with emulation prevention bytes inserted, as it
// appears inside a NAL unit: a 0x03 follows every two zero bytes that are
// followed by a byte <= 0x03 (or end the data).
func Escape(rbsp []byte) []byte {
	out := make([]byte, 0, len(rbsp)+len(rbsp)/2+1)
	zeros := 0
	for _, b := range rbsp {
		if zeros >= 2 && b <= 3 {
			out = append(out, 3)
			zeros = 0
		}
		out = append(out, b)
		if b == 0 {
			zeros++
		} else {
			zeros = 0
		}
	}
	if zeros >= 2 {
		out = append(out, 3)
	}
	return out
}
