package mp4

import (
	"encoding/json"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// probedStream is what ffprobe reports about a stream of a finished file.
type probedStream struct {
	CodecName string `json:"codec_name"`
	CodecType string `json:"codec_type"`
	Width     int    `json:"width"`
	Height    int    `json:"height"`
	StartTime string `json:"start_time"`
	Duration  string `json:"duration"`
}

func (s probedStream) seconds(t testing.TB, v string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		t.Fatalf("ffprobe %s stream: bad number %q", s.CodecType, v)
	}
	return f
}

// probeFile runs ffprobe on a finished file.
func probeFile(t testing.TB, path string) []probedStream {
	t.Helper()
	var out struct {
		Streams []probedStream `json:"streams"`
	}
	raw := runTool(t, "ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json", path)
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("ffprobe json: %v", err)
	}
	return out.Streams
}

// decodedFrames decodes a file with ffmpeg (using the decoder options) and
// returns how many frames each stream produced, by stream index.
func decodedFrames(t testing.TB, path string, decoder []string) map[string]int {
	t.Helper()
	args := append([]string{"-v", "error"}, decoder...)
	args = append(args, "-i", path, "-map", "0", "-fps_mode", "passthrough", "-f", "framecrc", "-")
	counts := map[string]int{}
	for _, line := range strings.Split(string(runTool(t, "ffmpeg", args...)), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		idx, _, _ := strings.Cut(line, ",")
		counts[strings.TrimSpace(idx)]++
	}
	return counts
}

// decodeClean fully decodes a file and fails on any message from the decoder.
func decodeClean(t testing.TB, path string, decoder []string) {
	t.Helper()
	args := append([]string{"-v", "error"}, decoder...)
	args = append(args, "-i", path, "-fps_mode", "passthrough", "-enc_time_base", "-1", "-f", "null", "-")
	out, err := exec.Command(tool(t, "ffmpeg"), args...).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("decoding %s: err=%v output:\n%s", path, err, out)
	}
}

// streamOf returns the probed stream of the given type.
func streamOf(t testing.TB, streams []probedStream, typ string) probedStream {
	t.Helper()
	for _, s := range streams {
		if s.CodecType == typ {
			return s
		}
	}
	t.Fatalf("no %s stream in %+v", typ, streams)
	return probedStream{}
}
