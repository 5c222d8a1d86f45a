package mp4

import (
	"errors"
	"fmt"
	"io"

	gomp4 "github.com/abema/go-mp4"
)

// seekBuf is an in-memory io.WriteSeeker. Boxes are assembled in one so that
// every piece of the file reaches the disk with a single write.
type seekBuf struct {
	b   []byte
	pos int
}

func (s *seekBuf) Write(p []byte) (int, error) {
	if end := s.pos + len(p); end > len(s.b) {
		s.b = append(s.b[:s.pos], p...)
	} else {
		copy(s.b[s.pos:], p)
	}
	s.pos += len(p)
	return len(p), nil
}

func (s *seekBuf) Seek(offset int64, whence int) (int64, error) {
	var base int64
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		base = int64(s.pos)
	case io.SeekEnd:
		base = int64(len(s.b))
	default:
		return 0, errors.New("seek: bad whence")
	}
	n := base + offset
	if n < 0 || n > int64(len(s.b)) {
		return 0, fmt.Errorf("seek: offset %d outside buffer of %d bytes", n, len(s.b))
	}
	s.pos = int(n)
	return n, nil
}

func (s *seekBuf) reset() {
	s.b = s.b[:0]
	s.pos = 0
}

// boxBuf builds nested boxes with go-mp4 into a seekBuf. The first error
// sticks; later calls do nothing, so builders read as a flat list of boxes.
type boxBuf struct {
	buf seekBuf
	w   *gomp4.Writer
	err error
}

func newBoxBuf() *boxBuf {
	b := &boxBuf{}
	b.w = gomp4.NewWriter(&b.buf)
	return b
}

// reset empties the buffer for reuse, keeping its capacity.
func (b *boxBuf) reset() {
	b.buf.reset()
	b.err = nil
}

// bytes returns the boxes built so far, or the first error.
func (b *boxBuf) bytes() ([]byte, error) {
	return b.buf.b, b.err
}

// offset is the current write position, where the next box starts.
func (b *boxBuf) offset() int { return b.buf.pos }

// start opens a container box; end closes it and fixes its size.
func (b *boxBuf) start(t gomp4.BoxType) {
	if b.err == nil {
		_, b.err = b.w.StartBox(&gomp4.BoxInfo{Type: t})
	}
}

func (b *boxBuf) end() {
	if b.err == nil {
		_, b.err = b.w.EndBox()
	}
}

// box writes v as a complete box; children may follow before end is called
// when open is true.
func (b *boxBuf) box(v gomp4.IImmutableBox, open bool) {
	b.start(v.GetType())
	if b.err == nil {
		_, b.err = gomp4.Marshal(b.w, v, gomp4.Context{})
	}
	if !open {
		b.end()
	}
}

// leaf writes v as a complete box with no children.
func (b *boxBuf) leaf(v gomp4.IImmutableBox) { b.box(v, false) }

// raw writes a box whose payload is given byte for byte.
func (b *boxBuf) raw(t gomp4.BoxType, payload []byte) {
	b.start(t)
	if b.err == nil {
		_, b.err = b.w.Write(payload)
	}
	b.end()
}

// header writes only a box header announcing size bytes in total; the
// payload is written separately.
func (b *boxBuf) header(t gomp4.BoxType, size uint64) {
	if b.err == nil {
		_, b.err = gomp4.WriteBoxInfo(&b.buf, &gomp4.BoxInfo{Type: t, Size: size, HeaderSize: headerSizeFor(size)})
	}
}

// headerSizeFor returns the header size a box of size bytes needs: 8, or 16
// with a 64-bit size field.
func headerSizeFor(size uint64) uint64 {
	if size > 1<<32-1 {
		return gomp4.LargeHeaderSize
	}
	return gomp4.SmallHeaderSize
}

// append writes bytes that already form complete boxes.
func (b *boxBuf) append(p []byte) {
	if b.err == nil {
		_, b.err = b.buf.Write(p)
	}
}
