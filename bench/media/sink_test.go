package media

import (
	"errors"
	"io"
)

// memFile is an in-memory io.WriteSeeker that keeps what is written and
// can be reused without allocating again.
type memFile struct {
	buf []byte
	pos int64
}

func (f *memFile) Write(p []byte) (int, error) {
	end := int(f.pos) + len(p)
	if old := len(f.buf); end > old {
		if end > cap(f.buf) {
			f.buf = append(f.buf[:cap(f.buf)], make([]byte, end-cap(f.buf))...)
		}
		f.buf = f.buf[:end]
		clear(f.buf[old:min(int(f.pos), end)]) // a hole left by seeking past the end
	}
	copy(f.buf[f.pos:], p)
	f.pos = int64(end)
	return len(p), nil
}

func (f *memFile) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		off += f.pos
	case io.SeekEnd:
		off += int64(len(f.buf))
	}
	if off < 0 {
		return 0, errors.New("memfile: negative position")
	}
	f.pos = off
	return off, nil
}

// reset empties the file and keeps its memory.
func (f *memFile) reset() { f.buf, f.pos = f.buf[:0], 0 }

// discardFile is an io.WriteSeeker that keeps nothing: a sink for streams
// longer than memory should hold.
type discardFile struct{ pos, size int64 }

func (d *discardFile) Write(p []byte) (int, error) {
	d.pos += int64(len(p))
	d.size = max(d.size, d.pos)
	return len(p), nil
}

func (d *discardFile) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		off += d.pos
	case io.SeekEnd:
		off += d.size
	}
	if off < 0 {
		return 0, errors.New("discard: negative position")
	}
	d.pos = off
	return off, nil
}

// ReadAt reads back what was written, as the MP4 writer does to finish.
func (f *memFile) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("memfile: negative offset")
	}
	if off >= int64(len(f.buf)) {
		return 0, io.EOF
	}
	n := copy(p, f.buf[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// errDiscarded is what reading a discardFile returns.
var errDiscarded = errors.New("discard: the bytes were not kept")

// ReadAt fails: nothing was kept. The MP4 writer needs the method to be
// created, and reads only when finishing, which discardFile's users skip.
func (d *discardFile) ReadAt([]byte, int64) (int, error) { return 0, errDiscarded }
