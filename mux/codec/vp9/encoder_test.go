package vp9

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kiroku-sfu/kiroku/mux"
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

// decodeIVF writes frames as an IVF file, decodes it with ffmpeg (any error
// fails the test) and returns ffmpeg's framecrc listing.
func decodeIVF(t *testing.T, frames [][]byte) []byte {
	t.Helper()
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Fatalf("ffmpeg is required: %v", err)
	}
	hdr := make([]byte, 32)
	copy(hdr, "DKIF")
	binary.LittleEndian.PutUint16(hdr[6:], 32)
	copy(hdr[8:], "VP90")
	binary.LittleEndian.PutUint16(hdr[12:], 320)
	binary.LittleEndian.PutUint16(hdr[14:], 240)
	binary.LittleEndian.PutUint32(hdr[16:], 30)
	binary.LittleEndian.PutUint32(hdr[20:], 1)
	binary.LittleEndian.PutUint32(hdr[24:], uint32(len(frames)))
	file := hdr
	for i, f := range frames {
		var fh [12]byte
		binary.LittleEndian.PutUint32(fh[:], uint32(len(f)))
		binary.LittleEndian.PutUint64(fh[4:], uint64(i))
		file = append(append(file, fh[:]...), f...)
	}
	path := filepath.Join(t.TempDir(), "joined.ivf")
	if err := os.WriteFile(path, file, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(ffmpeg, "-v", "error", "-i", path, "-fps_mode", "passthrough", "-f", "framecrc", "-")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("ffmpeg decode: %v\n%s", err, stderr.String())
	}
	return out
}

// mp4VPCC remuxes an IVF file into MP4 with ffmpeg and returns the
// configuration its vpcC box describes.
func mp4VPCC(t *testing.T, ivf string) mux.VideoConfig {
	t.Helper()
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Fatalf("ffmpeg is required: %v", err)
	}
	out := filepath.Join(t.TempDir(), "clip.mp4")
	if b, err := exec.Command(ffmpeg, "-v", "error", "-i", ivf, "-c", "copy", out).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg remux: %v\n%s", err, b)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(raw, []byte("vpcC"))
	if i < 0 || len(raw) < i+11 {
		t.Fatal("no vpcC box in ffmpeg's MP4")
	}
	rec := raw[i+8:] // after the full box's version and flags
	return mux.VideoConfig{Profile: rec[0], Level: rec[1], BitDepth: rec[2] >> 4,
		ChromaSubsampling: rec[2] >> 1 & 0x07, FullRange: rec[2]&1 == 1}
}
