package av1

import (
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// encodedFrame is one frame of an encoder's IVF output with ffprobe's
// keyframe flag for it.
type encodedFrame struct {
	data     []byte
	keyframe bool
}

// encodeIVF runs ffmpeg on a 2 s test pattern with the given codec options
// and returns the IVF frames with their keyframe flags, and the file.
func encodeIVF(t *testing.T, codecArgs ...string) ([]encodedFrame, string) {
	t.Helper()
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Fatalf("ffmpeg is required: %v", err)
	}
	ffprobe, err := exec.LookPath("ffprobe")
	if err != nil {
		t.Fatalf("ffprobe is required: %v", err)
	}
	out := filepath.Join(t.TempDir(), "clip.ivf")
	args := []string{"-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-t", "2"}
	args = append(append(args, codecArgs...), "-f", "ivf", out)
	if b, err := exec.Command(ffmpeg, args...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %v: %v\n%s", args, err, b)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	frames := readIVF(t, raw)
	flags, err := exec.Command(ffprobe, "-v", "error", "-show_entries", "packet=flags",
		"-of", "csv=p=0", out).Output()
	if err != nil {
		t.Fatalf("ffprobe: %v", err)
	}
	lines := strings.Fields(string(flags))
	if len(lines) != len(frames) {
		t.Fatalf("ffprobe lists %d packets, IVF has %d frames", len(lines), len(frames))
	}
	for i, l := range lines {
		frames[i].keyframe = strings.HasPrefix(l, "K")
	}
	return frames, out
}

// readIVF splits an IVF file into its frames.
func readIVF(t *testing.T, b []byte) []encodedFrame {
	t.Helper()
	if len(b) < 32 || string(b[:4]) != "DKIF" {
		t.Fatal("not an IVF file")
	}
	b = b[binary.LittleEndian.Uint16(b[6:8]):]
	var frames []encodedFrame
	for len(b) > 0 {
		if len(b) < 12 {
			t.Fatal("truncated IVF frame header")
		}
		n := int(binary.LittleEndian.Uint32(b))
		if len(b) < 12+n {
			t.Fatal("truncated IVF frame")
		}
		frames = append(frames, encodedFrame{data: b[12 : 12+n]})
		b = b[12+n:]
	}
	return frames
}
