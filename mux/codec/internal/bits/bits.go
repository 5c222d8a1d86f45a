// Package bits reads and writes the bit fields of video bitstreams:
// fixed-width fields and exp-Golomb codes, most significant bit first. The
// Reader reads an H.264 or H.265 NAL unit's RBSP with emulation prevention
// bytes skipped on the fly, so that parsing never copies the NAL unit, or
// plain bytes (AV1 and VP9 headers) as they are.
package bits

import "errors"

// ErrTruncated reports a read past the end of the data.
var ErrTruncated = errors.New("bits: truncated")

// ErrExpGolomb reports an exp-Golomb code longer than 32 bits, which no
// field of H.264 or H.265 can hold.
var ErrExpGolomb = errors.New("bits: exp-Golomb code too long")

// Reader reads bits, most significant first, from the RBSP of a NAL unit
// given in its escaped form: an emulation prevention byte (0x03 after two
// zero bytes) is skipped; or, made by NewPlainReader, from bytes as they
// are. The first error sticks: later reads return zero
// and Err reports it, so a parser can read a run of fields and check once.
// The zero value reads nothing; use NewReader.
type Reader struct {
	data  []byte
	pos   int  // index of the next byte to load
	cur   byte // byte being read
	left  uint // bits of cur not yet read
	zeros int  // consecutive zero bytes loaded, for emulation prevention
	plain bool // no emulation prevention
	err   error
}

// NewReader returns a Reader over escaped NAL unit bytes (without the NAL
// unit header, or with it if the caller skips it).
func NewReader(data []byte) Reader {
	return Reader{data: data}
}

// NewPlainReader returns a Reader over data read as it is, for bitstreams
// without emulation prevention.
func NewPlainReader(data []byte) Reader {
	return Reader{data: data, plain: true}
}

// Err returns the first error met, or nil.
func (r *Reader) Err() error { return r.err }

func (r *Reader) load() bool {
	if !r.plain && r.zeros >= 2 && r.pos < len(r.data) && r.data[r.pos] == 3 {
		r.pos++
		r.zeros = 0
	}
	if r.pos >= len(r.data) {
		r.err = ErrTruncated
		return false
	}
	r.cur = r.data[r.pos]
	r.pos++
	r.left = 8
	if r.cur == 0 {
		r.zeros++
	} else {
		r.zeros = 0
	}
	return true
}

// Bit reads one bit.
func (r *Reader) Bit() uint32 {
	if r.err != nil {
		return 0
	}
	if r.left == 0 && !r.load() {
		return 0
	}
	r.left--
	return uint32(r.cur>>r.left) & 1
}

// Flag reads one bit as a boolean.
func (r *Reader) Flag() bool { return r.Bit() == 1 }

// Bits reads an n-bit unsigned field, n <= 32.
func (r *Reader) Bits(n int) uint32 {
	var v uint32
	for n > 0 && r.err == nil {
		if r.left == 0 && !r.load() {
			break
		}
		take := min(uint(n), r.left) // a whole byte's worth at a time
		r.left -= take
		v = v<<take | uint32(r.cur>>r.left)&(1<<take-1)
		n -= int(take)
	}
	if r.err != nil {
		return 0
	}
	return v
}

// Bits64 reads an n-bit unsigned field, n <= 64.
func (r *Reader) Bits64(n int) uint64 {
	var v uint64
	for i := 0; i < n && r.err == nil; i++ {
		v = v<<1 | uint64(r.Bit())
	}
	if r.err != nil {
		return 0
	}
	return v
}

// Skip skips n bits.
func (r *Reader) Skip(n int) {
	for i := 0; i < n && r.err == nil; i++ {
		r.Bit()
	}
}

// UE reads an unsigned exp-Golomb code, ue(v).
func (r *Reader) UE() uint32 {
	zeros := 0
	for r.err == nil && r.Bit() == 0 {
		zeros++
		if zeros > 31 {
			if r.err == nil {
				r.err = ErrExpGolomb
			}
			return 0
		}
	}
	if r.err != nil {
		return 0
	}
	return uint32(1)<<zeros - 1 + r.Bits(zeros)
}

// SE reads a signed exp-Golomb code, se(v).
func (r *Reader) SE() int64 {
	k := int64(r.UE())
	if k&1 == 1 {
		return (k + 1) / 2
	}
	return -k / 2
}

// UEMax reads ue(v) and fails with err unless the value is at most max.
func (r *Reader) UEMax(max uint32, err error) uint32 {
	v := r.UE()
	if r.err == nil && v > max {
		r.err = err
		return 0
	}
	return v
}

// Fail records err as the reader's error unless one is already recorded;
// parsers use it for semantic errors so that Err reports the first problem.
func (r *Reader) Fail(err error) {
	if r.err == nil {
		r.err = err
	}
}
