package codectest

import (
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// IVFFrame is one frame of an encoder's IVF output with ffprobe's keyframe
// flag for it.
type IVFFrame struct {
	Data     []byte
	Keyframe bool
}

// EncodeIVF runs ffmpeg on a 2 s 320x240 test pattern with the given codec
// options and returns the IVF frames with their keyframe flags, and the
// file's path.
func EncodeIVF(t testing.TB, codecArgs ...string) ([]IVFFrame, string) {
	t.Helper()
	ffprobe, err := exec.LookPath("ffprobe")
	if err != nil {
		t.Fatalf("ffprobe is required: %v", err)
	}
	out, raw := Encode(t, "320x240", "clip.ivf", append(append([]string(nil), codecArgs...), "-f", "ivf")...)
	frames := ReadIVF(t, raw)
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
		frames[i].Keyframe = strings.HasPrefix(l, "K")
	}
	return frames, out
}

// ReadIVF splits an IVF file into its frames.
func ReadIVF(t testing.TB, b []byte) []IVFFrame {
	t.Helper()
	if len(b) < 32 || string(b[:4]) != "DKIF" {
		t.Fatal("not an IVF file")
	}
	b = b[binary.LittleEndian.Uint16(b[6:8]):]
	var frames []IVFFrame
	for len(b) > 0 {
		if len(b) < 12 {
			t.Fatal("truncated IVF frame header")
		}
		n := int(binary.LittleEndian.Uint32(b))
		if len(b) < 12+n {
			t.Fatal("truncated IVF frame")
		}
		frames = append(frames, IVFFrame{Data: b[12 : 12+n]})
		b = b[12+n:]
	}
	return frames
}

// RemuxMP4 copies the streams of the media file at path into an MP4 file
// with ffmpeg and returns that file's contents.
func RemuxMP4(t testing.TB, path string) []byte {
	t.Helper()
	dir := t.TempDir()
	FFmpeg(t, dir, "-i", path, "-c", "copy", "clip.mp4")
	raw, err := os.ReadFile(filepath.Join(dir, "clip.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
