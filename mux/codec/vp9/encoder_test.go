package vp9

import (
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kiroku-sfu/kiroku/mux"
	"github.com/kiroku-sfu/kiroku/mux/codec/internal/codectest"
)

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
	box := codectest.FindBox(t, codectest.RemuxMP4(t, ivf), "vpcC")
	if len(box) < 7 {
		t.Fatal("vpcC box too short")
	}
	rec := box[4:] // after the full box's version and flags
	return mux.VideoConfig{Profile: rec[0], Level: rec[1], BitDepth: rec[2] >> 4,
		ChromaSubsampling: rec[2] >> 1 & 0x07, FullRange: rec[2]&1 == 1}
}
