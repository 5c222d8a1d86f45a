package h265

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
		{"level-id=93;profile-id=1;tier-flag=0;tx-mode=SRST", true},
		{"profile-id=1; sprop-max-don-diff=0", true},
		{"sprop-max-don-diff=2;profile-id=1", false},
		{"sprop-depack-buf-nalus=1", false},
		{"sprop-max-don-diff=-1", false},
		{"Sprop-Max-Don-Diff=3", false},
	}
	for _, tt := range tests {
		err := CheckFmtp(tt.fmtp)
		if tt.ok != (err == nil) || (err != nil && !errors.Is(err, mux.ErrUnsupported)) {
			t.Errorf("CheckFmtp(%q) = %v, want ok %v", tt.fmtp, err, tt.ok)
		}
	}
}
