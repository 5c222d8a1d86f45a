package media

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/kiroku-sfu/kiroku/mux"
	"github.com/kiroku-sfu/kiroku/mux/remux"
)

// ffmpegLoops is how many times ffmpeg reads its input in a row, so that its
// start-up is spread over two minutes of media.
const ffmpegLoops = 12

// ffmpegCopy writes data (a finished file of format f holding media of
// length clip) to dir and times `ffmpeg -c copy` remuxing it, looped
// ffmpegLoops times, into a new file of format to. It returns the best
// wall time of three runs per media second.
func ffmpegCopy(dir string, data []byte, f, to remux.Format, clip time.Duration) (time.Duration, error) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		return 0, fmt.Errorf("bench: ffmpeg is required (run `make deps`): %w", err)
	}
	in := filepath.Join(dir, "ours."+string(f))
	if err := os.WriteFile(in, data, 0o644); err != nil {
		return 0, fmt.Errorf("bench: write ffmpeg input: %w", err)
	}
	out := filepath.Join(dir, "copy."+string(to))
	best := time.Duration(math.MaxInt64)
	for range 3 {
		cmd := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-y", "-stream_loop", fmt.Sprint(ffmpegLoops-1),
			"-i", in, "-map", "0", "-c", "copy", "-f", string(to), out)
		start := time.Now()
		if msg, err := cmd.CombinedOutput(); err != nil {
			return 0, fmt.Errorf("bench: ffmpeg -c copy: %w: %s", err, msg)
		}
		best = min(best, time.Since(start))
	}
	return best * time.Second / (clip * ffmpegLoops), nil
}

// ffmpegTarget is the format ffmpeg remuxes our file of format f into: the
// same one, except where ffmpeg 5.1 cannot write the codec there (VP8 into
// MP4, H.264 into WebM); then the other.
func ffmpegTarget(c *capture, f remux.Format) remux.Format {
	for _, st := range c.sidecar.Streams {
		switch {
		case f == remux.MP4 && st.Codec == mux.VP8:
			return remux.WebM
		case f == remux.WebM && st.Codec == mux.H264:
			return remux.MP4
		}
	}
	return f
}
