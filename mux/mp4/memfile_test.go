package mp4

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"time"
)

// memFile is an in-memory file: an io.WriteSeeker and a File for Recover.
type memFile struct {
	b   []byte
	pos int64
}

var _ File = (*memFile)(nil)

func (m *memFile) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("negative offset")
	}
	if off >= int64(len(m.b)) {
		return 0, io.EOF
	}
	n := copy(p, m.b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (m *memFile) WriteAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("negative offset")
	}
	if end := off + int64(len(p)); end > int64(len(m.b)) {
		m.b = append(m.b, make([]byte, end-int64(len(m.b)))...)
	}
	return copy(m.b[off:], p), nil
}

func (m *memFile) Write(p []byte) (int, error) {
	n, err := m.WriteAt(p, m.pos)
	m.pos += int64(n)
	return n, err
}

func (m *memFile) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		off += m.pos
	case io.SeekEnd:
		off += int64(len(m.b))
	}
	if off < 0 {
		return 0, errors.New("negative offset")
	}
	m.pos = off
	return off, nil
}

func (m *memFile) Truncate(size int64) error {
	if size < 0 || size > int64(len(m.b)) {
		return errors.New("truncate: bad size")
	}
	m.b = m.b[:size]
	return nil
}

func (m *memFile) Stat() (os.FileInfo, error) { return memInfo(len(m.b)), nil }

// memInfo is the os.FileInfo of a memFile: only the size matters.
type memInfo int64

func (i memInfo) Name() string       { return "mem.mp4" }
func (i memInfo) Size() int64        { return int64(i) }
func (i memInfo) Mode() fs.FileMode  { return 0o644 }
func (i memInfo) ModTime() time.Time { return time.Time{} }
func (i memInfo) IsDir() bool        { return false }
func (i memInfo) Sys() any           { return nil }
