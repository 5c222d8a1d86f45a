package webm

import (
	"fmt"
	"io"
	"io/fs"
	"time"

	"github.com/kiroku-sfu/kiroku/mux"
)

// File is the file Recover repairs in place; *os.File satisfies it.
type File interface {
	io.ReaderAt
	io.WriterAt
	Truncate(size int64) error
	Stat() (fs.FileInfo, error)
}

// Recover finishes, in place, a file a Writer left behind when its process
// died: it scans the clusters on disk, drops a cut-off final block (and an
// empty final cluster), patches the cluster and Segment sizes, and writes
// Cues, the SeekHead, Tracks and Duration the way Close does. No media
// bytes are copied. A finished file is finished again unchanged in
// content. A file this package did not write, or one damaged beyond a
// crash's cut-off tail, gets an error and is not modified.
//
// The result's Width and Height are the track header's (the first
// keyframe's); ConfigChanges is not known after a crash and is 0.
func Recover(f File) (mux.FileStats, error) {
	fi, err := f.Stat()
	if err != nil {
		return mux.FileStats{}, fmt.Errorf("webm: recover: stat: %w", err)
	}
	s := scanner{r: f, size: fi.Size()}
	if err := s.scanFile(); err != nil {
		return mux.FileStats{}, fmt.Errorf("webm: recover: %w", err)
	}
	durMs, _ := mediaEnd(&s.ends)
	durMs = max(durMs, 0)
	fin := finisher{
		lay:        s.lay,
		entries:    dropEmptyVideo(s.entries, s.stats.VideoFrames, s.stats.AudioFrames),
		mediaEnd:   s.mediaEnd,
		cues:       s.cues,
		durationMs: float64(durMs),
	}
	ps, size, err := fin.plan()
	if err != nil {
		return mux.FileStats{}, fmt.Errorf("webm: recover: %w", err)
	}
	// Nothing is written before this point. The cut-off tail (and any old
	// Cues) goes first, then cluster sizes, then what Close would write.
	if err := f.Truncate(s.mediaEnd); err != nil {
		return mux.FileStats{}, fmt.Errorf("webm: recover: truncate: %w", err)
	}
	if err := apply(f, append(s.patches, ps...)); err != nil {
		return mux.FileStats{}, fmt.Errorf("webm: recover: %w", err)
	}
	st := s.stats
	st.Bytes = size
	st.Duration = time.Duration(durMs) * time.Millisecond
	for _, e := range fin.entries {
		if e.Video != nil {
			st.Width, st.Height = int(e.Video.PixelWidth), int(e.Video.PixelHeight)
		}
	}
	return st, nil
}
