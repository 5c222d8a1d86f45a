package codectest

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
// with ffmpeg, given opts as output options, and returns that file's
// contents.
func RemuxMP4(t testing.TB, path string, opts ...string) []byte {
	t.Helper()
	dir := t.TempDir()
	args := append([]string{"-i", path, "-c", "copy"}, opts...)
	FFmpeg(t, dir, append(args, "clip.mp4")...)
	raw, err := os.ReadFile(filepath.Join(dir, "clip.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// RoundTripIVF sends each encoder frame through packetize and d, reusing
// one output buffer, and checks that the first packet is a frame start,
// that the output equals want(frame), that the keyframe flag is ffprobe's
// and, with checkConfig, each keyframe's Config. A 2 s clip encoded with
// a keyframe every 30 frames must have at least two keyframes.
func RoundTripIVF(t *testing.T, d mux.FrameDepacketizer, frames []IVFFrame, packetize func(frame []byte) [][]byte,
	want func(frame []byte) []byte, checkConfig func(t *testing.T, frame int, c *mux.VideoConfig),
) {
	t.Helper()
	var buf []byte
	keyframes := 0
	for i, f := range frames {
		payloads := packetize(f.Data)
		if !d.IsFrameStart(payloads[0]) {
			t.Fatalf("frame %d: first packet is no frame start", i)
		}
		var info mux.FrameInfo
		var err error
		if buf, info, err = d.AppendFrame(buf[:0], payloads); err != nil {
			t.Fatalf("frame %d (%d packets): %v", i, len(payloads), err)
		}
		if w := want(f.Data); !bytes.Equal(buf, w) {
			t.Fatalf("frame %d differs from the encoder's:\n got % x\nwant % x", i, head(buf), head(w))
		}
		if info.Keyframe != f.Keyframe {
			t.Fatalf("frame %d: keyframe %v, ffprobe says %v", i, info.Keyframe, f.Keyframe)
		}
		if info.Keyframe {
			keyframes++
			checkConfig(t, i, info.Config)
		}
	}
	if keyframes < 2 {
		t.Fatalf("%d keyframes in a 2 s clip with -g 30", keyframes)
	}
}

// Same is the want of RoundTripIVF for codecs whose frames come back as
// the encoder wrote them.
func Same(frame []byte) []byte { return frame }

// head is the start of b that a failure message shows.
func head(b []byte) []byte { return b[:min(len(b), 48)] }
