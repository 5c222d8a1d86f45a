package media

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kiroku-sfu/kiroku/mux/rtpdump"
	"github.com/kiroku-sfu/kiroku/test/judge"
)

// exitTrackFailed is the documented exit status of `sfu mux` when the file
// was written but an announced track never started.
const exitTrackFailed = 3

// failedMux is what `sfu mux -json` says about a run whose video failed.
type failedMux struct {
	AudioFrames int `json:"audio_frames"`
	VideoFrames int `json:"video_frames"`
	Failures    []struct {
		Kind    string `json:"kind"`
		Cause   string `json:"cause"`
		Message string `json:"message"`
	} `json:"failures"`
}

// checkNeverStarts runs `sfu mux` on a capture whose video can never
// start: it must exit with exitTrackFailed, name the video track and cause
// on stderr and in the JSON, and still write a decodable audio-only file.
func checkNeverStarts(t *testing.T, name, format, out, cause string) {
	t.Helper()
	stdout, stderr, err := runSFU("mux", "-format", format, "-o", out, "-json", capturePath(name))
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != exitTrackFailed {
		t.Fatalf("sfu mux %s: %v, want exit status %d\n%s", name, err, exitTrackFailed, stderr)
	}
	if !strings.Contains(stderr, "video track") || !strings.Contains(stderr, cause) {
		t.Errorf("stderr does not name the video track and %s: %q", cause, stderr)
	}
	var s failedMux
	if err := json.Unmarshal([]byte(stdout), &s); err != nil {
		t.Fatalf("sfu mux -json output %q: %v", stdout, err)
	}
	if len(s.Failures) != 1 || s.Failures[0].Kind != "video" || s.Failures[0].Cause != cause || s.VideoFrames != 0 {
		t.Errorf("summary: %d video frames, failures %+v; want one video failure %s", s.VideoFrames, s.Failures, cause)
	}
	probe, err := judge.ProbeFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(probe.Streams) != 1 || probe.Streams[0].CodecName != "opus" {
		t.Errorf("file streams %+v, want the audio alone", probe.Streams)
	}
	if msg, err := judge.DecodeErrors(out, ""); err != nil || msg != "" {
		t.Errorf("decoding %s: %v %s", out, err, msg)
	}
	// The decoder trims the encoder's pre-skip, a few frames.
	if n, err := judge.FrameCount(out, "a", ""); err != nil || s.AudioFrames == 0 || n < s.AudioFrames-4 {
		t.Errorf("audio decodes to %d frames of %d written (%v)", n, s.AudioFrames, err)
	}
}

// TestMuxNoKeyframe cuts a capture before its first keyframe: `sfu mux`
// writes the audio and exits with exitTrackFailed naming no_keyframe.
func TestMuxNoKeyframe(t *testing.T) {
	needTools(t, "ffprobe", "ffmpeg")
	dir := t.TempDir()
	// The mid-GOP capture's first keyframe arrives ~1 s in.
	cut := cutCapture(t, "h264_cb_opus_midgop", filepath.Join(dir, "nokey"), 900*time.Millisecond)
	for _, format := range []string{"mp4", "webm"} {
		t.Run(format, func(t *testing.T) {
			checkNeverStarts(t, cut, format, filepath.Join(dir, "nokey."+format), "no_keyframe")
		})
	}
}

// cutCapture writes the packets of fixture that arrived before end as a
// capture at base (with the fixture's sidecar) and returns base relative to
// fixtureDir, as capturePath expects.
func cutCapture(t *testing.T, fixture, base string, end time.Duration) string {
	t.Helper()
	c, err := rtpdump.Open(capturePath(fixture))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	f, err := os.Create(base + ".rtpdump")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := rtpdump.NewWriter(f, c.Header())
	if err != nil {
		t.Fatal(err)
	}
	for {
		p, err := c.Next()
		if errors.Is(err, io.EOF) || (err == nil && p.Offset >= end) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := w.WritePacket(p); err != nil {
			t.Fatal(err)
		}
	}
	sc, err := c.Sidecar.MarshalIndent()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(base+".json", sc, 0o644); err != nil {
		t.Fatal(err)
	}
	dir, err := filepath.Abs(fixtureDir)
	if err != nil {
		t.Fatal(err)
	}
	rel, err := filepath.Rel(dir, base)
	if err != nil {
		t.Fatal(err)
	}
	return rel
}
