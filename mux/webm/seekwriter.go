package webm

import (
	"fmt"
	"io"
)

// seekWriter adds positioned writes to an io.WriteSeeker; it keeps the
// write position at the end of the file between calls. When the
// destination is also an io.WriterAt (an *os.File), a write inside what is
// already written is one positioned write (pwrite) instead of seek, write
// and seek back: a long recording patches a cluster size about every
// other cluster.
type seekWriter struct {
	ws  io.WriteSeeker
	wa  io.WriterAt // ws's own WriteAt, or nil
	end int64
}

func newSeekWriter(ws io.WriteSeeker) *seekWriter {
	wa, _ := ws.(io.WriterAt)
	return &seekWriter{ws: ws, wa: wa}
}

func (s *seekWriter) append(p []byte) error {
	n, err := s.ws.Write(p)
	s.end += int64(n)
	if err != nil {
		return fmt.Errorf("webm: write at %d: %w", s.end, err)
	}
	return nil
}

// WriteAt writes p at off and returns to the end of the file.
func (s *seekWriter) WriteAt(p []byte, off int64) (int, error) {
	if off == s.end {
		err := s.append(p)
		return len(p), err
	}
	if s.wa != nil && off+int64(len(p)) <= s.end {
		n, err := s.wa.WriteAt(p, off)
		if err != nil {
			return n, fmt.Errorf("webm: write at %d: %w", off, err)
		}
		return n, nil
	}
	if _, err := s.ws.Seek(off, io.SeekStart); err != nil {
		return 0, fmt.Errorf("webm: seek to %d: %w", off, err)
	}
	n, err := s.ws.Write(p)
	if err != nil {
		return n, fmt.Errorf("webm: write at %d: %w", off, err)
	}
	s.end = max(s.end, off+int64(n))
	if _, err := s.ws.Seek(s.end, io.SeekStart); err != nil {
		return n, fmt.Errorf("webm: seek to end %d: %w", s.end, err)
	}
	return n, nil
}
