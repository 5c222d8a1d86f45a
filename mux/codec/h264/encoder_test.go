package h264

import (
	"errors"
	"fmt"
	"testing"

	"github.com/pion/rtp/codecs"

	"github.com/kiroku-sfu/kiroku/mux"
	"github.com/kiroku-sfu/kiroku/mux/codec/internal/codectest"
)

const testMTU = 1200

// encodeH264 encodes the test pattern with libx264, access unit
// delimiters on, and returns the stream's path and its access units.
func encodeH264(t *testing.T, size string, opts ...string) (string, [][][]byte) {
	t.Helper()
	args := append([]string{"-c:v", "libx264", "-preset", "veryfast", "-g", "30", "-pix_fmt", "yuv420p"}, opts...)
	path, stream := codectest.Encode(t, size, "out.h264", args...)
	var aus [][][]byte
	for _, n := range codectest.SplitAnnexB(stream) {
		if n[0]&0x1f == naluAUD || len(aus) == 0 {
			aus = append(aus, nil)
		}
		aus[len(aus)-1] = append(aus[len(aus)-1], n)
	}
	if len(aus) != 60 {
		t.Fatalf("encoder made %d access units, want 60", len(aus))
	}
	return path, aus
}

// wantAU is what the depacketizer must output for an access unit, and
// whether it is a keyframe.
func wantAU(au [][]byte) ([]byte, bool) {
	var keep [][]byte
	key := false
	for _, n := range au {
		switch n[0] & 0x1f {
		case naluSPS, naluPPS, naluAUD, naluFiller:
			continue
		case naluIDR:
			key = true
		}
		keep = append(keep, n)
	}
	return codectest.LengthPrefixed(keep), key
}

func TestRoundTripEncoder(t *testing.T) {
	tests := []struct {
		name      string
		opts      []string
		payloader codecs.H264Payloader
	}{
		{"baseline", []string{"-profile:v", "baseline", "-bf", "0", "-x264-params", "aud=1"}, codecs.H264Payloader{}},
		{"baseline without STAP-A", []string{"-profile:v", "baseline", "-bf", "0", "-x264-params", "aud=1"},
			codecs.H264Payloader{DisableStapA: true}},
		{"main", []string{"-profile:v", "main", "-bf", "0", "-x264-params", "aud=1"}, codecs.H264Payloader{}},
		{"high", []string{"-profile:v", "high", "-bf", "0", "-x264-params", "aud=1"}, codecs.H264Payloader{}},
		{"high with 4 slices", []string{"-profile:v", "high", "-bf", "0", "-x264-params", "aud=1:slices=4"},
			codecs.H264Payloader{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, aus := encodeH264(t, "320x240", tt.opts...)
			packetize := func(annexB []byte) [][]byte { return tt.payloader.Payload(testMTU, annexB) }
			keyframes, firstConfig := codectest.CheckAccessUnits(t, NewDepacketizer(), aus, packetize, wantAU)
			if keyframes != 2 {
				t.Fatalf("%d keyframes, want 2 (GOP of 30 over 60 frames)", keyframes)
			}
			compareWithMuxer(t, path, firstConfig.Record)
		})
	}
}

// compareWithMuxer remuxes the stream into MP4 and compares the avcC box
// the muxer wrote with rec, field by field.
func compareWithMuxer(t *testing.T, path string, rec []byte) {
	t.Helper()
	codectest.CompareRecords(t, codectest.RemuxMP4(t, path), "avcC", rec, decodeAVCC)
}

// avccFields is a decoded avcC record; parameter sets are hex strings so
// the struct compares with ==.
type avccFields struct {
	Version, Profile, Compat, Level, LengthSize byte
	SPS, PPS                                    string
	ChromaFormat, BitDepthLuma, BitDepthChroma  byte
	NumSPSExt                                   byte
	HasExtension                                bool
}

func decodeAVCC(b []byte) (avccFields, error) {
	if len(b) < 7 {
		return avccFields{}, errors.New("too short")
	}
	f := avccFields{Version: b[0], Profile: b[1], Compat: b[2], Level: b[3], LengthSize: b[4]&3 + 1}
	rest := b[5:]
	var err error
	if f.SPS, rest, err = decodeSets(rest, int(rest[0]&0x1f)); err != nil {
		return f, err
	}
	if len(rest) < 1 {
		return f, errors.New("no PPS count")
	}
	if f.PPS, rest, err = decodeSets(rest, int(rest[0])); err != nil {
		return f, err
	}
	if len(rest) >= 4 {
		f.HasExtension = true
		f.ChromaFormat, f.BitDepthLuma, f.BitDepthChroma, f.NumSPSExt = rest[0]&3, rest[1]&7+8, rest[2]&7+8, rest[3]
	}
	return f, nil
}

func decodeSets(b []byte, n int) (string, []byte, error) {
	b = b[1:]
	s := ""
	for range n {
		if len(b) < 2 || len(b) < 2+int(b[0])<<8|int(b[1]) {
			return "", nil, errors.New("truncated parameter set")
		}
		size := int(b[0])<<8 | int(b[1])
		s += fmt.Sprintf("[%x]", b[2:2+size])
		b = b[2+size:]
	}
	return s, b, nil
}

func TestEncoderWithBFramesIsRejected(t *testing.T) {
	_, aus := encodeH264(t, "320x240", "-profile:v", "high", "-bf", "2", "-x264-params", "aud=1")
	var p codecs.H264Payloader
	d := NewDepacketizer()
	for i, au := range aus {
		_, _, err := d.AppendFrame(nil, p.Payload(testMTU, codectest.AnnexB(au)))
		if !errors.Is(err, mux.ErrReordering) {
			t.Fatalf("access unit %d: err %v, want ErrReordering", i, err)
		}
	}
}

func TestParseSPSEncoder(t *testing.T) {
	tests := []struct {
		size          string
		width, height int
		opts          []string
		chroma, depth uint8
	}{
		{"1280x720", 1280, 720, []string{"-pix_fmt", "yuv420p"}, 1, 8},
		{"1920x1080", 1920, 1080, []string{"-pix_fmt", "yuv420p"}, 1, 8},
		{"352x288", 352, 288, []string{"-pix_fmt", "yuv420p", "-profile:v", "baseline"}, 1, 8},
		{"642x362", 642, 362, []string{"-pix_fmt", "yuv420p"}, 1, 8},
		{"642x362", 642, 362, []string{"-pix_fmt", "yuv422p"}, 2, 8},
		{"642x362", 642, 362, []string{"-pix_fmt", "yuv444p"}, 3, 8},
		{"642x362", 642, 362, []string{"-pix_fmt", "yuv420p10le"}, 1, 10},
		{"1920x1080", 1920, 1080, []string{"-pix_fmt", "yuv420p", "-x264-params", "interlaced=1"}, 1, 8},
		{"640x480", 640, 480, []string{"-pix_fmt", "yuv420p", "-x264-params", "cqm=jvt"}, 1, 8},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.size, tt.opts), func(t *testing.T) {
			args := append([]string{"-frames:v", "1", "-c:v", "libx264", "-preset", "ultrafast"}, tt.opts...)
			_, stream := codectest.Encode(t, tt.size, "one.h264", args...)
			var sps SPS
			found := false
			for _, n := range codectest.SplitAnnexB(stream) {
				if n[0]&0x1f == naluSPS {
					var err error
					if sps, err = ParseSPS(n); err != nil {
						t.Fatalf("ParseSPS(%x): %v", n, err)
					}
					found = true
				}
			}
			if !found {
				t.Fatal("encoder wrote no SPS")
			}
			t.Logf("SPS %+v", sps)
			if sps.Width != tt.width || sps.Height != tt.height || sps.ChromaFormatIDC != tt.chroma ||
				sps.BitDepthLuma != tt.depth || sps.BitDepthChroma != tt.depth {
				t.Fatalf("parsed %+v", sps)
			}
		})
	}
}
