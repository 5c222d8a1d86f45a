package mp4

import (
	"encoding/binary"
	"fmt"
	"io"
)

// tableBufSize is how much of a table a tableWriter gathers per write.
const tableBufSize = 16 << 10

// tableWriter writes one table's entries into its hole, [off, end) of dst,
// through a small buffer. Writing more or fewer bytes than the hole holds
// is an error: the moov was planned from a walk that found other samples.
type tableWriter struct {
	dst      io.WriterAt
	off, end int64
	buf      []byte
	err      error
	name     string
}

func newTableWriter(dst io.WriterAt, off, size int64, name string) *tableWriter {
	return &tableWriter{dst: dst, off: off, end: off + size, name: name,
		buf: make([]byte, 0, min(size, tableBufSize))}
}

func (w *tableWriter) put32(v uint32) {
	w.buf = binary.BigEndian.AppendUint32(w.buf, v)
	if len(w.buf) >= tableBufSize {
		w.flush()
	}
}

func (w *tableWriter) put64(v uint64) {
	w.buf = binary.BigEndian.AppendUint64(w.buf, v)
	if len(w.buf) >= tableBufSize {
		w.flush()
	}
}

func (w *tableWriter) flush() {
	if w.err == nil && len(w.buf) > 0 {
		if w.off+int64(len(w.buf)) > w.end {
			w.err = fmt.Errorf("%s: more entries than planned", w.name)
		} else if _, err := w.dst.WriteAt(w.buf, w.off); err != nil {
			w.err = fmt.Errorf("write %s: %w", w.name, err)
		}
		w.off += int64(len(w.buf))
	}
	w.buf = w.buf[:0]
}

// done writes what is buffered and checks that the hole is full.
func (w *tableWriter) done() error {
	w.flush()
	if w.err == nil && w.off != w.end {
		w.err = fmt.Errorf("%s: %d bytes short of the plan", w.name, w.end-w.off)
	}
	return w.err
}

// tableWriters is the tableSink of one track of a moov being written: a
// writer per table, nil for a table the moov does not have (stss of audio,
// where every sample is a sync sample).
type tableWriters struct {
	w    [numTableKinds]*tableWriter
	co64 bool
}

var _ tableSink = (*tableWriters)(nil)

func (s *tableWriters) stts(count, delta uint32) {
	s.w[kindStts].put32(count)
	s.w[kindStts].put32(delta)
}

func (s *tableWriters) stss(sample uint32) {
	if w := s.w[kindStss]; w != nil {
		w.put32(sample)
	}
}

func (s *tableWriters) stsc(firstChunk, perChunk, sdi uint32) {
	w := s.w[kindStsc]
	w.put32(firstChunk)
	w.put32(perChunk)
	w.put32(sdi)
}

func (s *tableWriters) stsz(size uint32) { s.w[kindStsz].put32(size) }

func (s *tableWriters) chunk(off uint64) {
	if s.co64 {
		s.w[kindChunks].put64(off)
		return
	}
	s.w[kindChunks].put32(uint32(off))
}

// done finishes every table of the track.
func (s *tableWriters) done() error {
	for _, w := range s.w {
		if w != nil {
			if err := w.done(); err != nil {
				return err
			}
		}
	}
	return nil
}

// memWriterAt is an io.WriterAt over a byte slice of fixed length.
type memWriterAt []byte

func (m memWriterAt) WriteAt(p []byte, off int64) (int, error) {
	if off < 0 || off+int64(len(p)) > int64(len(m)) {
		return 0, fmt.Errorf("write of %d bytes at %d outside %d", len(p), off, len(m))
	}
	return copy(m[off:], p), nil
}
