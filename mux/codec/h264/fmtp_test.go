package h264

import (
	"errors"
	"testing"

	"github.com/kiroku-sfu/kiroku/mux"
)

func TestCheckFmtp(t *testing.T) {
	tests := []struct {
		fmtp string
		ok   bool
	}{
		{"", true},
		{"level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f", true},
		{"profile-level-id=640c1f; packetization-mode=0", true},
		{"profile-level-id=42e01f", true},
		{"packetization-mode=2;profile-level-id=42e01f", false},
		{"PACKETIZATION-MODE=2", false},
		{"packetization-mode=x", false},
	}
	for _, tt := range tests {
		err := CheckFmtp(tt.fmtp)
		if tt.ok != (err == nil) || (err != nil && !errors.Is(err, mux.ErrUnsupported)) {
			t.Errorf("CheckFmtp(%q) = %v, want ok %v", tt.fmtp, err, tt.ok)
		}
	}
}
