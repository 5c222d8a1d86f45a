package archive

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/kiroku-sfu/kiroku/mux"
	"github.com/kiroku-sfu/kiroku/mux/mp4"
	"github.com/kiroku-sfu/kiroku/mux/remux"
	"github.com/kiroku-sfu/kiroku/mux/webm"
)

// errWouldChange reports a file that our reader would have to finish.
var errWouldChange = errors.New("archive: file is not finished: finishing it would change it")

// overlayFile lets the writers' crash repair run over a file without
// touching it: writes and truncation go to an in-memory overlay, reads see
// the overlay, and changed reports whether the result differs from the
// file. The overlay holds only what the repair rewrites (indexes and
// headers), not the media.
type overlayFile struct {
	f      *os.File
	orig   int64 // the file's size
	size   int64 // the virtual size
	cut    int64 // original bytes from here on read as zeros
	writes []overlayWrite
}

type overlayWrite struct {
	off int64
	b   []byte
}

type sizedInfo struct {
	os.FileInfo
	size int64
}

// Size is the overlay's virtual size.
func (s sizedInfo) Size() int64 { return s.size }

func newOverlay(f *os.File) (*overlayFile, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("archive: stat: %w", err)
	}
	return &overlayFile{f: f, orig: fi.Size(), size: fi.Size(), cut: fi.Size()}, nil
}

// Stat reports the file with the overlay's size.
func (o *overlayFile) Stat() (os.FileInfo, error) {
	fi, err := o.f.Stat()
	if err != nil {
		return nil, err
	}
	return sizedInfo{FileInfo: fi, size: o.size}, nil
}

// ReadAt reads the file as the overlay has changed it.
func (o *overlayFile) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off >= o.size {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), o.size-off))
	clear(p[:n])
	if off < o.cut {
		if _, err := o.f.ReadAt(p[:min(int64(n), o.cut-off)], off); err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
	}
	for _, w := range o.writes {
		lo, hi := max(w.off, off), min(w.off+int64(len(w.b)), off+int64(n))
		if lo < hi {
			copy(p[lo-off:hi-off], w.b[lo-w.off:hi-w.off])
		}
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// WriteAt records a write in the overlay.
func (o *overlayFile) WriteAt(p []byte, off int64) (int, error) {
	o.writes = append(o.writes, overlayWrite{off: off, b: bytes.Clone(p)})
	o.size = max(o.size, off+int64(len(p)))
	return len(p), nil
}

// Truncate cuts the overlay's view of the file.
func (o *overlayFile) Truncate(n int64) error {
	o.size, o.cut = n, min(o.cut, n)
	kept := o.writes[:0]
	for _, w := range o.writes {
		if w.off < n {
			w.b = w.b[:min(int64(len(w.b)), n-w.off)]
			kept = append(kept, w)
		}
	}
	o.writes = kept
	return nil
}

// maxDiffs bounds the differing offsets changed collects.
const maxDiffs = 64

// changed compares the overlay with the file: it reports a size change,
// or the offsets of differing bytes (at most maxDiffs) and the file's bytes.
func (o *overlayFile) changed() (resized bool, diffs []int64, err error) {
	if o.size != o.orig {
		return true, nil, nil
	}
	a, b := make([]byte, 1<<16), make([]byte, 1<<16)
	for off := int64(0); off < o.size && len(diffs) < maxDiffs; off += int64(len(a)) {
		n := int(min(int64(len(a)), o.size-off))
		if _, err := o.f.ReadAt(a[:n], off); err != nil && !errors.Is(err, io.EOF) {
			return false, nil, err
		}
		if _, err := o.ReadAt(b[:n], off); err != nil && !errors.Is(err, io.EOF) {
			return false, nil, err
		}
		for i := 0; i < n && len(diffs) < maxDiffs; i++ {
			if a[i] != b[i] {
				diffs = append(diffs, off+int64(i))
			}
		}
	}
	return false, diffs, nil
}

// inWebMDuration reports whether every offset lies in the payload of a
// WebM Duration element (ID 0x4489, an 8-byte float). A split part's
// Duration ends at its cut; a re-scan computes it from the last frame.
func inWebMDuration(f io.ReaderAt, offs []int64) bool {
	for _, off := range offs {
		var b [11]byte
		start := max(0, off-10)
		n, _ := f.ReadAt(b[:off-start+1], start)
		ok := false
		for j := 0; j+3 <= n && !ok; j++ { // j+3 is where the payload starts
			payload := start + int64(j) + 3
			ok = b[j] == 0x44 && b[j+1] == 0x89 && b[j+2] == 0x88 && off >= payload && off < payload+8
		}
		if !ok {
			return false
		}
	}
	return true
}

// readMedia detects a media file's format and scans its whole box or
// element structure with our own reader, without modifying it; a file
// that would need finishing is an error.
func readMedia(path string) (mux.FileStats, Format, error) {
	f, err := os.Open(path)
	if err != nil {
		return mux.FileStats{}, "", fmt.Errorf("archive: read %s: %w", path, err)
	}
	defer f.Close()
	format, err := remux.DetectFormat(f)
	if err != nil {
		return mux.FileStats{}, "", fmt.Errorf("archive: read %s: %w", path, err)
	}
	o, err := newOverlay(f)
	if err != nil {
		return mux.FileStats{}, Format(format), err
	}
	var st mux.FileStats
	switch format {
	case remux.MP4:
		st, err = mp4.Recover(o)
	case remux.WebM:
		st, err = webm.Recover(o)
	}
	if err == nil {
		var resized bool
		var diffs []int64
		resized, diffs, err = o.changed()
		if resized || (len(diffs) > 0 && !(format == remux.WebM && inWebMDuration(f, diffs))) {
			err = errWouldChange
		}
	}
	if err != nil {
		return st, Format(format), fmt.Errorf("archive: read %s: %w", path, err)
	}
	return st, Format(format), nil
}
