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
