package codec

import (
	"errors"
	"testing"

	"github.com/kiroku-sfu/kiroku/mux"
)

func TestNewDepacketizer(t *testing.T) {
	for _, c := range []mux.Codec{mux.VP8, mux.VP9, mux.AV1, mux.H264, mux.H265, mux.Opus} {
		d, err := NewDepacketizer(c, "")
		if err != nil || d == nil {
			t.Errorf("%s: %v", c, err)
		}
	}
	if _, err := NewDepacketizer("G722", ""); !errors.Is(err, mux.ErrUnsupported) {
		t.Errorf("unknown codec: err = %v", err)
	}
	if _, err := NewDepacketizer(mux.H264, "packetization-mode=2"); err == nil {
		t.Error("H.264 interleaved mode accepted")
	}
}

// TestNewDepacketizerSeedsSprop checks that the fmtp's parameter sets (the
// h264_sprop_opus and h265_sprop_opus captures' sidecars) make the first
// keyframe writable with its size, with nothing in-band (the fmtp GStreamer's
// payloaders announced for those captures).
func TestNewDepacketizerSeedsSprop(t *testing.T) {
	tests := []struct {
		codec mux.Codec
		fmtp  string
		slice []byte // an IDR/CRA slice header using PPS 0
	}{
		{mux.H264, "packetization-mode=1;profile-level-id=42c01e;sprop-parameter-sets=Z0LAHtoCgPbAWoMDA1KAAAADAIAAAB5HixdQ,aM48gA==",
			[]byte{0x65, 0x88, 0x84, 0x00}},
		{mux.H265, "profile-id=1;sprop-vps=QAEMAf//AWAAAAMAkAAAAwAAAwBaugJA;" +
			"sprop-sps=QgEBAWAAAAMAkAAAAwAAAwBaoAUCAeFlukpML/8AAQABagwMDAgAAAMACAAAAwDwQA==;sprop-pps=RAHAc8CJ",
			[]byte{21 << 1, 0x01, 0xa0, 0x00}},
	}
	for _, tt := range tests {
		t.Run(string(tt.codec), func(t *testing.T) {
			for _, fmtp := range []string{tt.fmtp, ""} {
				d, err := NewDepacketizer(tt.codec, fmtp)
				if err != nil {
					t.Fatal(err)
				}
				_, info, err := d.AppendFrame(nil, [][]byte{tt.slice})
				if fmtp == "" {
					if !errors.Is(err, mux.ErrMissingParameterSets) {
						t.Errorf("without sprop: %v, want mux.ErrMissingParameterSets", err)
					}
					continue
				}
				if err != nil || !info.Keyframe || info.Config == nil || info.Config.Width != 640 || info.Config.Height != 480 {
					t.Errorf("with sprop: %+v, %v; want a 640x480 keyframe", info, err)
				}
			}
		})
	}
}
