package media

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kiroku-sfu/kiroku/test/judge"
)

// muxSummary is the part of `sfu mux -json` output the suite reads.
type muxSummary struct {
	File          string `json:"file"`
	DurationMS    int64  `json:"duration_ms"`
	VideoFrames   int    `json:"video_frames"`
	AudioFrames   int    `json:"audio_frames"`
	Width         int    `json:"width"`
	Height        int    `json:"height"`
	ConfigChanges int    `json:"config_changes"`
	PacketsLost   int    `json:"packets_lost"`
	PacketsDup    int    `json:"packets_duplicate"`
	FramesDropped int    `json:"frames_dropped"`
	Gaps          []struct {
		Kind          string `json:"kind"`
		OffsetMS      int64  `json:"offset_ms"`
		DurationMS    int64  `json:"duration_ms"`
		Cause         string `json:"cause"`
		DroppedFrames int    `json:"dropped_frames"`
	} `json:"gaps"`
}

// videoGapTime sums the durations of the video gaps.
func (s muxSummary) videoGapTime() time.Duration {
	var d time.Duration
	for _, g := range s.Gaps {
		if g.Kind == "video" {
			d += time.Duration(g.DurationMS) * time.Millisecond
		}
	}
	return d
}

// runSFU runs the built cmd/sfu with args and returns its stdout, stderr
// and error. It is killed after judge.Timeout.
func runSFU(args ...string) (string, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), judge.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, sfuBin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// sfuMux runs `sfu mux -json` on a fixture and returns its summary.
func sfuMux(t *testing.T, fixture, format, out string) muxSummary {
	t.Helper()
	stdout, stderr, err := runSFU("mux", "-format", format, "-o", out, "-json", capturePath(fixture))
	if err != nil {
		t.Fatalf("sfu mux -format %s %s: %v\n%s", format, fixture, err, stderr)
	}
	var s muxSummary
	if err := json.Unmarshal([]byte(stdout), &s); err != nil {
		t.Fatalf("sfu mux -json output %q: %v", stdout, err)
	}
	return s
}

// decodedFrame is one decoded video frame: its time and raw picture size.
type decodedFrame struct {
	PTS   time.Duration
	Bytes int
}

// decodeVideo decodes the first video stream of the files ffmpeg opens with
// input (for example {"-i", path}) and returns every frame at its own size
// (no scaling to the first frame's size). vp9 selects
// libvpx, as browsers decode it. ffmpeg is killed after judge.Timeout.
func decodeVideo(input []string, vp9 bool) ([]decodedFrame, error) {
	args := []string{"-nostdin", "-v", "error"}
	if vp9 {
		args = append(args, "-c:v", "libvpx-vp9")
	}
	args = append(args, input...)
	args = append(args, "-map", "0:v:0", "-autoscale", "0", "-fps_mode", "passthrough", "-f", "framecrc", "-")
	ctx, cancel := context.WithTimeout(context.Background(), judge.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ffmpeg", args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("ffmpeg %s: %w: %s", strings.Join(args, " "), err, stderr.String())
	}
	if stderr.Len() > 0 {
		return nil, fmt.Errorf("ffmpeg %s reported: %s", strings.Join(args, " "), stderr.String())
	}
	return parseFrameCRC(stdout.String())
}

// parseFrameCRC reads ffmpeg's framecrc lines
// "stream, dts, pts, duration, size, crc" after the "#tb 0: N/D" header.
func parseFrameCRC(out string) ([]decodedFrame, error) {
	num, den := int64(1), int64(1)
	var frames []decodedFrame
	for _, line := range strings.Split(out, "\n") {
		if tb, ok := strings.CutPrefix(line, "#tb 0: "); ok {
			if _, err := fmt.Sscanf(tb, "%d/%d", &num, &den); err != nil || den == 0 {
				return nil, fmt.Errorf("framecrc time base %q", tb)
			}
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, ",")
		if len(f) < 6 {
			return nil, fmt.Errorf("framecrc line %q", line)
		}
		pts, err1 := strconv.ParseInt(strings.TrimSpace(f[2]), 10, 64)
		size, err2 := strconv.Atoi(strings.TrimSpace(f[4]))
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("framecrc line %q", line)
		}
		frames = append(frames, decodedFrame{PTS: time.Duration(pts * num * int64(time.Second) / den), Bytes: size})
	}
	return frames, nil
}

// needTools fails the test when a judging tool is missing: a missing tool
// must never read as a pass.
func needTools(t testing.TB, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			t.Fatalf("%s is required (run `make deps`): %v", n, err)
		}
	}
}

// absent reports whether path does not exist.
func absent(path string) bool {
	_, err := os.Stat(path)
	return os.IsNotExist(err)
}
