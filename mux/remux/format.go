// Package remux turns rtpdump captures into finished MP4 or WebM files and
// finishes files left behind by a crash: what `sfu mux` runs, and what the
// recorder uses to pick a writer by format.
package remux

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/kiroku-sfu/kiroku/mux"
	"github.com/kiroku-sfu/kiroku/mux/mp4"
	"github.com/kiroku-sfu/kiroku/mux/webm"
)

// Format is a container format.
type Format string

// Container formats.
const (
	MP4  Format = "mp4"
	WebM Format = "webm"
)

// ParseFormat accepts "mp4" or "webm".
func ParseFormat(s string) (Format, error) {
	switch Format(s) {
	case MP4, WebM:
		return Format(s), nil
	}
	return "", fmt.Errorf("remux: format must be mp4 or webm, got %q", s)
}

// WriterOptions are the settings both writers share.
type WriterOptions struct {
	// FlushInterval is the most media time held in memory (default 1 s).
	FlushInterval time.Duration
	// RequestKeyframe is called when the writer needs a video keyframe
	// (WebM's cluster limit).
	RequestKeyframe func()
	Logger          *slog.Logger
}

// NewWriter creates a writer of format f on ws.
func NewWriter(f Format, ws io.WriteSeeker, video, audio *mux.TrackInfo, o WriterOptions) (mux.Writer, error) {
	switch f {
	case MP4:
		return mp4.NewWriter(ws, video, audio, mp4.Options{FlushInterval: o.FlushInterval})
	case WebM:
		return webm.NewWriter(ws, video, audio, webm.Options{FlushInterval: o.FlushInterval,
			RequestKeyframe: o.RequestKeyframe, Logger: o.Logger})
	}
	return nil, fmt.Errorf("remux: format %q: %w", f, mux.ErrUnsupported)
}

// Supports reports whether codec c can be written in format f (H.265 is
// MP4-only).
func Supports(f Format, c mux.Codec) bool {
	return !(f == WebM && c == mux.H265)
}

// ErrUnknownFormat reports a file that is neither MP4 nor WebM.
var ErrUnknownFormat = errors.New("remux: not an MP4 or WebM file")

// DetectFormat reads a file's first bytes: an ftyp box means MP4, the EBML
// magic means WebM.
func DetectFormat(r io.ReaderAt) (Format, error) {
	var head [8]byte
	if _, err := r.ReadAt(head[:], 0); err != nil {
		return "", fmt.Errorf("remux: read file head: %w", err)
	}
	switch {
	case bytes.Equal(head[4:8], []byte("ftyp")):
		return MP4, nil
	case bytes.Equal(head[:4], []byte{0x1a, 0x45, 0xdf, 0xa3}):
		return WebM, nil
	}
	return "", ErrUnknownFormat
}

// RecoverFile finishes, in place, a file that a killed writer left behind,
// and reports its format and what it now holds. No media bytes are copied.
func RecoverFile(path string) (mux.FileStats, Format, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return mux.FileStats{}, "", fmt.Errorf("remux: recover: %w", err)
	}
	format, err := DetectFormat(f)
	if err != nil {
		return mux.FileStats{}, "", errors.Join(fmt.Errorf("remux: recover %s: %w", path, err), f.Close())
	}
	var stats mux.FileStats
	switch format {
	case MP4:
		stats, err = mp4.Recover(f)
	case WebM:
		stats, err = webm.Recover(f)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return stats, format, fmt.Errorf("remux: recover %s: %w", path, err)
	}
	return stats, format, nil
}
