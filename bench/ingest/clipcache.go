package ingestbench

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/kiroku-sfu/kiroku/loadgen"
)

// The clip every publisher plays: 10 s of 720p30 VP8 at 2.5 Mbit/s (CBR,
// a keyframe every 5 s; testsrc2 with moving noise, so the encoder has
// real detail to spend the bits on) and 48 kHz stereo Opus at 64 kbit/s,
// one 20 ms packet an Ogg page. The file names carry the parameters:
// change them together.
const (
	clipVideoName = "ingest-vp8-720p30-2500k-g150-10s.ivf"
	clipAudioName = "ingest-opus-64k-20ms-10s.ogg"
)

// clipArgs are ffmpeg's arguments (before the output file) for the
// video and the audio.
func clipArgs() (video, audio []string) {
	video = []string{"-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30,noise=alls=12:allf=t+u", "-t", "10",
		"-c:v", "libvpx", "-b:v", "2500k", "-minrate", "2500k", "-maxrate", "2500k", "-bufsize", "1250k",
		"-g", "150", "-keyint_min", "150", "-deadline", "realtime", "-cpu-used", "8", "-an", "-f", "ivf"}
	audio = []string{"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=10", "-ac", "2",
		"-c:a", "libopus", "-b:a", "64k", "-frame_duration", "20", "-page_duration", "20000", "-f", "ogg"}
	return video, audio
}

// clipCacheDir is where the clip is kept: $KIROKU_CACHE_DIR, else
// ~/.cache/kiroku (the Makefile's CACHE_DIR).
func clipCacheDir() (string, error) {
	if d := os.Getenv("KIROKU_CACHE_DIR"); d != "" {
		return d, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("clip cache: %w", err)
	}
	return filepath.Join(home, ".cache", "kiroku"), nil
}

// cachedClip loads the clip, making it with ffmpeg first if the cache
// does not hold it.
func cachedClip() (*loadgen.Clip, error) {
	dir, err := clipCacheDir()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("clip cache: %w", err)
	}
	video, audio := filepath.Join(dir, clipVideoName), filepath.Join(dir, clipAudioName)
	videoArgs, audioArgs := clipArgs()
	for path, args := range map[string][]string{video: videoArgs, audio: audioArgs} {
		if err := makeOnce(path, args); err != nil {
			return nil, err
		}
	}
	return loadgen.LoadClip(video, audio)
}

// makeOnce runs ffmpeg with args into path unless path exists; the file
// appears whole or not at all.
func makeOnce(path string, args []string) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("clip cache: %w", err)
	}
	tmp := path + ".tmp"
	cmd := exec.Command("ffmpeg", append(append([]string{"-hide_banner", "-v", "error", "-y"}, args...), tmp)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("make clip %s with ffmpeg: %w\n%s", filepath.Base(path), err, out)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("clip cache: %w", err)
	}
	return nil
}
