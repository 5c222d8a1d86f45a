package rtpmux_test

import (
	"bytes"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// runTool runs an installed tool and returns its standard output; a
// missing tool or a failure fails the test.
func runTool(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Fatalf("%s is needed to judge files (make deps installs it): %v", name, err)
	}
	cmd := exec.Command(name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	if stderr.Len() > 0 {
		t.Errorf("%s %s reported:\n%s", name, strings.Join(args, " "), stderr.String())
	}
	return stdout.Bytes()
}

// decoderArgs picks libvpx for VP9, as browsers decode it.
func decoderArgs(videoCodec string) []string {
	if strings.EqualFold(videoCodec, "vp9") {
		return []string{"-c:v", "libvpx-vp9"}
	}
	return nil
}

// crcLine is one line of ffmpeg's framecrc output.
type crcLine struct {
	stream int
	pts    int64
	crc    string
}

// frameCRCs runs ffmpeg on input (with input options first) and returns
// its framecrc lines: decoded frames, or packets when copy is set.
func frameCRCs(t *testing.T, input []string, videoCodec string, copyPackets bool) []crcLine {
	t.Helper()
	args := []string{"-nostdin", "-v", "error"}
	if !copyPackets {
		args = append(args, decoderArgs(videoCodec)...)
	}
	args = append(args, input...)
	args = append(args, "-map", "0", "-fps_mode", "passthrough")
	if copyPackets {
		args = append(args, "-c", "copy")
	}
	args = append(args, "-f", "framecrc", "-")
	var out []crcLine
	for _, line := range strings.Split(string(runTool(t, "ffmpeg", args...)), "\n") {
		f := strings.Split(line, ",")
		if len(f) < 6 || strings.HasPrefix(line, "#") {
			continue
		}
		stream, err1 := strconv.Atoi(strings.TrimSpace(f[0]))
		pts, err2 := strconv.ParseInt(strings.TrimSpace(f[2]), 10, 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("framecrc line %q", line)
		}
		out = append(out, crcLine{stream: stream, pts: pts, crc: strings.TrimSpace(f[5])})
	}
	return out
}

// perStream splits framecrc lines by stream index.
func perStream(lines []crcLine) map[int][]crcLine {
	out := map[int][]crcLine{}
	for _, l := range lines {
		out[l.stream] = append(out[l.stream], l)
	}
	return out
}

// decodeClean fails the test when ffmpeg reports errors decoding path.
func decodeClean(t *testing.T, path, videoCodec string) {
	t.Helper()
	args := append([]string{"-nostdin", "-v", "error"}, decoderArgs(videoCodec)...)
	args = append(args, "-i", path, "-fps_mode", "passthrough", "-enc_time_base", "-1", "-f", "null", "-")
	runTool(t, "ffmpeg", args...)
}
