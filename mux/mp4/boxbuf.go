package mp4

import (
	"encoding/binary"
	"errors"
	"math"
)

// boxBuf builds nested boxes in memory, so that every piece of the file
// reaches the disk with a single write. Box headers are written and sized
// here, payloads encoded by hand. The first error sticks; later calls do
// nothing, so builders read as a flat list of boxes.
//
// A box may contain holes: stretches whose size is known but whose bytes
// are not held here (a finished moov's table entries). They count in the
// sizes of the boxes around them; see plan.
type boxBuf struct {
	b         []byte
	open      []openBox // innermost last
	holes     []hole
	holeBytes int64 // the size of every hole so far
	err       error
}

// openBox is a box whose size is not written yet.
type openBox struct {
	off   int   // offset of its header in b
	holes int64 // holeBytes when it was opened
}

// hole is a table's entries, left out of a boxBuf: size bytes that go where
// b[at] is, before the bytes from b[at] on.
type hole struct {
	at    int
	size  int64
	track uint32
	kind  tableKind
}

func newBoxBuf() *boxBuf { return &boxBuf{} }

// Write appends p (tests marshal go-mp4's encodings into a boxBuf).
func (b *boxBuf) Write(p []byte) (int, error) {
	b.b = append(b.b, p...)
	return len(p), nil
}

// reset empties the buffer for reuse, keeping its capacity.
func (b *boxBuf) reset() {
	b.b, b.open, b.holes, b.holeBytes, b.err = b.b[:0], b.open[:0], b.holes[:0], 0, nil
}

// bytes returns the boxes built so far, or the first error. Boxes with
// holes have no bytes of their own; see plan.
func (b *boxBuf) bytes() ([]byte, error) {
	if b.err == nil && len(b.holes) > 0 {
		return nil, errors.New("build boxes: the boxes have holes")
	}
	if b.err == nil && len(b.open) > 0 {
		return nil, errors.New("build boxes: a box is not closed")
	}
	return b.b, b.err
}

// hole leaves size bytes of table kind of track to be written later (none
// for size 0).
func (b *boxBuf) hole(track uint32, kind tableKind, size int64) {
	if b.err == nil && size > 0 {
		b.holes = append(b.holes, hole{at: len(b.b), size: size, track: track, kind: kind})
		b.holeBytes += size
	}
}

// offset is the current write position, where the next box starts.
func (b *boxBuf) offset() int { return len(b.b) }

// start opens a box of type t; end closes the innermost one and fixes its
// size. Boxes built in memory stay far below 4 GiB, so the header is
// always the 8-byte form.
func (b *boxBuf) start(t boxType) {
	if b.err == nil {
		b.open = append(b.open, openBox{off: len(b.b), holes: b.holeBytes})
		b.b = binary.BigEndian.AppendUint32(append(b.b, 0, 0, 0, 0), uint32(t))
	}
}

func (b *boxBuf) end() {
	if b.err != nil {
		return
	}
	if len(b.open) == 0 {
		b.err = errors.New("build boxes: end without start")
		return
	}
	o := b.open[len(b.open)-1]
	b.open = b.open[:len(b.open)-1]
	size := int64(len(b.b)-o.off) + b.holeBytes - o.holes
	if size > math.MaxUint32 {
		b.err = errors.New("build boxes: box of 4 GiB or more")
		return
	}
	binary.BigEndian.PutUint32(b.b[o.off:], uint32(size))
}

// fullBox opens a box of type t whose payload starts with a FullBox
// version and flags; the caller appends the rest and calls end.
func (b *boxBuf) fullBox(t boxType, version uint8, flags uint32) {
	b.start(t)
	b.u32(uint32(version)<<24 | flags&0xffffff)
}

// u32 and u64 append big-endian integers to the open box.
func (b *boxBuf) u32(v uint32) {
	if b.err == nil {
		b.b = binary.BigEndian.AppendUint32(b.b, v)
	}
}

func (b *boxBuf) u64(v uint64) {
	if b.err == nil {
		b.b = binary.BigEndian.AppendUint64(b.b, v)
	}
}

// header writes only a box header announcing size bytes in total; the
// payload is written separately.
func (b *boxBuf) header(t boxType, size uint64) {
	if b.err != nil {
		return
	}
	if headerSizeFor(size) == largeHeaderSize {
		b.b = binary.BigEndian.AppendUint32(b.b, 1)
		b.b = binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint32(b.b, uint32(t)), size)
		return
	}
	b.b = binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(b.b, uint32(size)), uint32(t))
}

// headerSizeFor returns the header size a box of size bytes needs: 8, or 16
// with a 64-bit size field.
func headerSizeFor(size uint64) uint64 {
	if size > 1<<32-1 {
		return largeHeaderSize
	}
	return smallHeaderSize
}

// append writes bytes that already form complete boxes.
func (b *boxBuf) append(p []byte) {
	if b.err == nil {
		b.b = append(b.b, p...)
	}
}

// raw writes a box whose payload is given byte for byte.
func (b *boxBuf) raw(t boxType, payload []byte) {
	b.start(t)
	b.append(payload)
	b.end()
}
