package mp4

import (
	"fmt"
	"io"
)

// writeHeader writes ftyp, the init moov and the header of the free box
// that fills the rest of the reserved region. The free box's payload is
// never read, so its bytes are not written when the file can be grown
// instead (see growRegion).
func (w *Writer) writeHeader() error {
	b := newBoxBuf()
	writeFtyp(b)
	ftyp, err := b.bytes()
	if err != nil {
		return fmt.Errorf("build ftyp: %w", err)
	}
	w.moovOff = int64(len(ftyp))
	head, err := w.reservedHead()
	if err != nil {
		return err
	}
	head = append(ftyp, head...)
	if _, err := w.wa.WriteAt(head, 0); err != nil {
		return fmt.Errorf("write header: %w", err)
	}
	w.pos = w.moovOff + int64(w.opts.ReservedHeaderBytes)
	if err := w.growRegion(int64(len(head))); err != nil {
		return fmt.Errorf("write header: %w", err)
	}
	return nil
}

// truncater is a file that can be grown, like *os.File.
type truncater interface{ Truncate(size int64) error }

// regionChunk is the most zeros growRegion writes at once.
const regionChunk = 64 << 10

// growRegion makes the file reach w.pos, the end of the reserved region,
// from off, where the free box header ends. A file that can be truncated
// to a larger size is grown that way: the file system reads the new bytes
// as zeros without writing them (a hole, on most), which saved a quarter of
// a short recording's cost. Any other writer gets the zeros written.
func (w *Writer) growRegion(off int64) error {
	if t, ok := w.ws.(truncater); ok && t.Truncate(w.pos) == nil {
		return nil
	}
	zeros := make([]byte, min(regionChunk, w.pos-off))
	for off < w.pos {
		n, err := w.wa.WriteAt(zeros[:min(int64(len(zeros)), w.pos-off)], off)
		if err != nil {
			return err
		}
		off += int64(n)
	}
	return nil
}

// reservedHead returns the start of the reserved region: the init moov and
// the header of the free box that fills the rest of the region.
func (w *Writer) reservedHead() ([]byte, error) {
	moov, err := buildInitMoov(w.trackMetas())
	if err != nil {
		return nil, err
	}
	reserved := w.opts.ReservedHeaderBytes
	if len(moov)+smallHeaderSize > reserved {
		return nil, fmt.Errorf("init moov of %d bytes does not fit the %d reserved bytes", len(moov), reserved)
	}
	return append(moov, freeHeader(int64(reserved-len(moov)))...), nil
}

// trackMetas returns the tracks' descriptions, video first.
func (w *Writer) trackMetas() []trackMeta {
	metas := make([]trackMeta, len(w.tracks))
	for i, t := range w.tracks {
		metas[i] = t.meta
	}
	return metas
}

// rewriteInitMoov replaces the init moov after a sample entry was added.
// The moov only grows, and the free box after it shrinks to match, so one
// write of a few hundred bytes replaces both.
func (w *Writer) rewriteInitMoov() error {
	head, err := w.reservedHead()
	if err != nil {
		return err
	}
	if _, err := w.wa.WriteAt(head, w.moovOff); err != nil {
		return fmt.Errorf("rewrite init moov: %w", err)
	}
	return nil
}

// seekWriterAt adapts an io.WriteSeeker without WriteAt.
type seekWriterAt struct{ ws io.WriteSeeker }

func (s seekWriterAt) WriteAt(p []byte, off int64) (int, error) {
	if _, err := s.ws.Seek(off, io.SeekStart); err != nil {
		return 0, err
	}
	return s.ws.Write(p)
}

// maxSampleGap is the longest distance between two samples of a track that
// a 32-bit sample duration can hold at 90 kHz (about 13 hours).
const maxSampleGap = 1<<32 - 1
