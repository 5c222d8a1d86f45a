package mp4

import (
	"fmt"
	"io"
	"os"

	"github.com/kiroku-sfu/kiroku/mux"
)

// File is the random access Recover needs; *os.File satisfies it.
type File interface {
	io.ReaderAt
	io.WriterAt
	Truncate(size int64) error
	Stat() (os.FileInfo, error)
}

// Recover finishes, in place, a file that a Writer left behind without
// Close (the process died): it cuts off a partial last fragment and then
// finishes the file exactly as Close does, keeping every complete fragment.
// It also completes a finish that was itself interrupted. Media bytes are
// never copied. A file that is not a kiroku recording gets ErrNotRecording
// and is left unchanged.
//
// For a file that was already finished, Recover only clears leftovers of an
// interrupted finish and reports what the file's moov describes.
func Recover(f File) (mux.FileStats, error) {
	info, err := f.Stat()
	if err != nil {
		return mux.FileStats{}, fmt.Errorf("mp4: recover: %w", err)
	}
	size := info.Size()
	s, err := scan(f, size)
	if err != nil {
		return mux.FileStats{}, fmt.Errorf("mp4: recover: %w", err)
	}
	if !s.fragmented {
		if err := freeMoofs(f, s.moofs); err != nil {
			return mux.FileStats{}, fmt.Errorf("mp4: recover: %w", err)
		}
		return s.finished.finishedStats(size), nil
	}
	if s.end < size {
		if err := f.Truncate(s.end); err != nil {
			return mux.FileStats{}, fmt.Errorf("mp4: recover: cut partial fragment: %w", err)
		}
	}
	stats, err := finish(f, f, s, false)
	if err != nil {
		return stats, fmt.Errorf("mp4: recover: %w", err)
	}
	return stats, nil
}
