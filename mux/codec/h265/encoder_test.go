package h265

import (
	"errors"
	"fmt"
	"testing"

	"github.com/pion/rtp/codecs"

	"github.com/kiroku-sfu/kiroku/mux"
	"github.com/kiroku-sfu/kiroku/mux/codec/internal/codectest"
)

const testMTU = 1200

// encodeH265 encodes the test pattern with libx265 (access unit
// delimiters on, an IRAP picture every 30 frames) and returns the
// stream's path and its access units.
func encodeH265(t *testing.T, size, params string) (string, [][][]byte) {
	t.Helper()
	path, stream := codectest.Encode(t, size, "out.hevc", "-c:v", "libx265", "-preset", "veryfast", "-pix_fmt", "yuv420p",
		"-x265-params", "log-level=error:aud=1:keyint=30:min-keyint=30:scenecut=0:"+params)
	var aus [][][]byte
	for _, n := range codectest.SplitAnnexB(stream) {
		if nalType(n) == naluAUD || len(aus) == 0 {
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
		switch t := nalType(n); {
		case t >= naluVPS && t <= naluAUD:
			continue
		case isIRAP(t):
			key = true
		}
		keep = append(keep, n)
	}
	return codectest.LengthPrefixed(keep), key
}

func TestRoundTripEncoder(t *testing.T) {
	tests := []struct {
		name, params string
		payloader    codecs.H265Payloader
	}{
		{"aggregation and fragmentation", "bframes=0", codecs.H265Payloader{}},
		{"single NAL units and fragmentation", "bframes=0", codecs.H265Payloader{SkipAggregation: true}},
		{"several slices", "bframes=0:slices=3", codecs.H265Payloader{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, aus := encodeH265(t, "320x240", tt.params)
			packetize := func(annexB []byte) [][]byte { return tt.payloader.Payload(testMTU, annexB) }
			keyframes, firstConfig := codectest.CheckAccessUnits(t, NewDepacketizer(), aus, packetize, wantAU)
			if keyframes != 2 {
				t.Fatalf("%d keyframes, want 2 (an IRAP every 30 of 60 frames)", keyframes)
			}
			compareWithMuxer(t, path, firstConfig.Record)
		})
	}
}

// compareWithMuxer remuxes the stream into MP4 as hvc1 and compares the
// hvcC box the muxer wrote with rec, field by field.
func compareWithMuxer(t *testing.T, path string, rec []byte) {
	t.Helper()
	codectest.CompareRecords(t, codectest.RemuxMP4(t, path, "-tag:v", "hvc1"), "hvcC", rec, decodeHVCC)
}

// hvccFields is a decoded hvcC record; the arrays are rendered as a string
// so that the struct compares with ==.
type hvccFields struct {
	Version, ProfileSpace, Tier, Profile byte
	Compat                               uint32
	Constraints                          uint64
	Level                                byte
	MinSpatialSegmentation               uint16
	Parallelism, ChromaFormat            byte
	BitDepthLuma, BitDepthChroma         byte
	AvgFrameRate                         uint16
	ConstantFrameRate, TemporalLayers    byte
	TemporalIDNested                     bool
	LengthSize                           byte
	Arrays                               string
}

func decodeHVCC(b []byte) (hvccFields, error) {
	if len(b) < 23 {
		return hvccFields{}, errors.New("too short")
	}
	f := hvccFields{
		Version: b[0], ProfileSpace: b[1] >> 6, Tier: b[1] >> 5 & 1, Profile: b[1] & 0x1f,
		Compat: uint32(b[2])<<24 | uint32(b[3])<<16 | uint32(b[4])<<8 | uint32(b[5]),
		Level:  b[12], MinSpatialSegmentation: uint16(b[13]&0xf)<<8 | uint16(b[14]),
		Parallelism: b[15] & 3, ChromaFormat: b[16] & 3,
		BitDepthLuma: b[17]&7 + 8, BitDepthChroma: b[18]&7 + 8,
		AvgFrameRate:      uint16(b[19])<<8 | uint16(b[20]),
		ConstantFrameRate: b[21] >> 6, TemporalLayers: b[21] >> 3 & 7,
		TemporalIDNested: b[21]&4 != 0, LengthSize: b[21]&3 + 1,
	}
	for i := 6; i < 12; i++ {
		f.Constraints = f.Constraints<<8 | uint64(b[i])
	}
	rest := b[23:]
	for range int(b[22]) {
		if len(rest) < 3 {
			return f, errors.New("truncated array")
		}
		f.Arrays += fmt.Sprintf("{complete=%d type=%d", rest[0]>>7, rest[0]&0x3f)
		n := int(rest[1])<<8 | int(rest[2])
		rest = rest[3:]
		for range n {
			if len(rest) < 2 || len(rest) < 2+(int(rest[0])<<8|int(rest[1])) {
				return f, errors.New("truncated NAL unit")
			}
			size := int(rest[0])<<8 | int(rest[1])
			f.Arrays += fmt.Sprintf(" %x", rest[2:2+size])
			rest = rest[2+size:]
		}
		f.Arrays += "}"
	}
	if len(rest) != 0 {
		return f, fmt.Errorf("%d bytes after the arrays", len(rest))
	}
	return f, nil
}

func TestEncoderWithBFramesIsRejected(t *testing.T) {
	_, aus := encodeH265(t, "320x240", "bframes=3")
	var p codecs.H265Payloader
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
		size, pixFmt  string
		width, height int
		chroma, depth uint8
	}{
		{"1280x720", "yuv420p", 1280, 720, 1, 8},
		{"1920x1080", "yuv420p", 1920, 1080, 1, 8},
		{"352x288", "yuv420p", 352, 288, 1, 8},
		{"642x362", "yuv420p", 642, 362, 1, 8},
		{"642x362", "yuv422p", 642, 362, 2, 8},
		{"642x362", "yuv444p", 642, 362, 3, 8},
		{"642x362", "yuv420p10le", 642, 362, 1, 10},
		{"642x362", "gray", 642, 362, 0, 8},
	}
	for _, tt := range tests {
		t.Run(tt.size+" "+tt.pixFmt, func(t *testing.T) {
			_, stream := codectest.Encode(t, tt.size, "one.hevc", "-frames:v", "1", "-c:v", "libx265",
				"-preset", "ultrafast", "-pix_fmt", tt.pixFmt, "-x265-params", "log-level=error")
			var sps SPS
			found := false
			for _, n := range codectest.SplitAnnexB(stream) {
				if nalType(n) == naluSPS {
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
