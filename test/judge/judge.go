// Package judge asks independent tools — ffprobe, ffmpeg and mkvinfo — what
// they make of a media file, so tests can hold kiroku's output to the
// standard of real players instead of to its own reader.
//
// Every function runs the tool as a child process and returns its findings
// or an error carrying the tool's output; a missing tool is an error, never a
// silent pass.
package judge

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Timeout bounds every tool invocation.
const Timeout = 2 * time.Minute

// Stream is one stream as ffprobe reports it.
type Stream struct {
	Index      int    `json:"index"`
	CodecName  string `json:"codec_name"`
	CodecType  string `json:"codec_type"`
	Profile    string `json:"profile"`
	Width      int    `json:"width"`
	Height     int    `json:"height"`
	Channels   int    `json:"channels"`
	SampleRate string `json:"sample_rate"`
	StartTime  string `json:"start_time"`
	Duration   string `json:"duration"`
}

// Start returns the stream's start time.
func (s Stream) Start() time.Duration { return seconds(s.StartTime) }

// Length returns the stream's duration, or 0 when ffprobe gave none.
func (s Stream) Length() time.Duration { return seconds(s.Duration) }

// Format is the container as ffprobe reports it.
type Format struct {
	FormatName string `json:"format_name"`
	Duration   string `json:"duration"`
	Size       string `json:"size"`
}

// Length returns the container's duration.
func (f Format) Length() time.Duration { return seconds(f.Duration) }

// Probe is ffprobe's view of a file.
type Probe struct {
	Streams []Stream `json:"streams"`
	Format  Format   `json:"format"`
}

// Stream returns the first stream of the given type ("video" or "audio").
func (p *Probe) Stream(codecType string) (Stream, bool) {
	for _, s := range p.Streams {
		if s.CodecType == codecType {
			return s, true
		}
	}
	return Stream{}, false
}

// ProbeFile runs ffprobe on path.
func ProbeFile(path string) (*Probe, error) {
	out, err := run("ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json", path)
	if err != nil {
		return nil, err
	}
	var p Probe
	if err := json.Unmarshal(out, &p); err != nil {
		return nil, fmt.Errorf("judge: parse ffprobe output: %w", err)
	}
	return &p, nil
}

// decoderArgs picks the decoder browsers use: for VP9, libvpx (ffmpeg's own
// decoder outputs every spatial layer of a superframe as a frame).
func decoderArgs(videoCodec string) []string {
	if strings.EqualFold(videoCodec, "vp9") {
		return []string{"-c:v", "libvpx-vp9"}
	}
	return nil
}

// DecodeErrors decodes every stream of path with ffmpeg and returns what it
// printed at level error ("" for a clean file). videoCodec selects the
// decoder (see decoderArgs); pass "" for the default.
func DecodeErrors(path, videoCodec string) (string, error) {
	args := append([]string{"-nostdin", "-v", "error"}, decoderArgs(videoCodec)...)
	args = append(args, "-i", path, "-fps_mode", "passthrough", "-enc_time_base", "-1", "-f", "null", "-")
	cmd := exec.Command("ffmpeg", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := runCmd(cmd); err != nil {
		return stderr.String(), fmt.Errorf("judge: ffmpeg decode of %s: %w: %s", path, err, stderr.String())
	}
	return stderr.String(), nil
}

// FrameCount decodes the first stream of kind ("v" or "a") and returns how
// many frames the decoder produced.
func FrameCount(path, kind, videoCodec string) (int, error) {
	args := []string{"-nostdin", "-v", "error"}
	if kind == "v" {
		args = append(args, decoderArgs(videoCodec)...)
	}
	args = append(args, "-i", path, "-map", "0:"+kind+":0", "-fps_mode", "passthrough", "-f", "framecrc", "-")
	out, err := run("ffmpeg", args...)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, line := range strings.Split(string(out), "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			n++
		}
	}
	return n, nil
}

// PacketTimes returns the presentation times of the packets of the first
// stream of kind ("v" or "a"), in file order, as the demuxer reports them.
func PacketTimes(path, kind string) ([]time.Duration, error) {
	out, err := run("ffprobe", "-v", "error", "-select_streams", kind+":0",
		"-show_entries", "packet=pts_time", "-of", "csv=p=0", path)
	if err != nil {
		return nil, err
	}
	var times []time.Duration
	for _, line := range strings.Fields(string(out)) {
		times = append(times, seconds(strings.TrimSuffix(line, ",")))
	}
	return times, nil
}

func run(name string, args ...string) ([]byte, error) {
	cmd := exec.Command(name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := runCmd(cmd); err != nil {
		return nil, fmt.Errorf("judge: %s %s: %w: %s", name, strings.Join(args, " "), err, stderr.String())
	}
	return stdout.Bytes(), nil
}

// runCmd runs cmd with Timeout.
func runCmd(cmd *exec.Cmd) error {
	if _, err := exec.LookPath(cmd.Path); err != nil && cmd.Err != nil {
		return fmt.Errorf("%w (run `make deps` to install it)", cmd.Err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		<-done
		return fmt.Errorf("timed out after %v", Timeout)
	}
}

func seconds(s string) time.Duration {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		return 0
	}
	return time.Duration(f * float64(time.Second))
}
