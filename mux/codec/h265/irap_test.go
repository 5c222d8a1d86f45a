package h265

import (
	"testing"
)

// TestRandomAccessTypes checks which slice types make a keyframe and which
// are marked as undecodable after a random access at their CRA/BLA.
func TestRandomAccessTypes(t *testing.T) {
	tests := []struct {
		name     string
		typ      byte
		keyframe bool
		skip     bool
	}{
		{"TRAIL_N", 0, false, false},
		{"TRAIL_R", 1, false, false},
		{"RADL_N", 6, false, false},
		{"RADL_R", 7, false, false},
		{"RASL_N", 8, false, true},
		{"RASL_R", 9, false, true},
		{"BLA_W_LP", 16, true, false},
		{"BLA_W_RADL", 17, true, false},
		{"BLA_N_LP", 18, true, false},
		{"IDR_W_RADL", 19, true, false},
		{"IDR_N_LP", 20, true, false},
		{"CRA", 21, true, false},
		{"RSV_IRAP_VCL22", 22, false, false},
		{"RSV_IRAP_VCL23", 23, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDepacketizer()
			if _, _, err := d.AppendFrame(nil, [][]byte{testVPS, testSPS, testPPS}); err == nil {
				t.Fatal("parameter sets alone made a frame")
			}
			_, info, err := d.AppendFrame(nil, [][]byte{buildSlice(tt.typ, 0, 20)})
			if err != nil {
				t.Fatal(err)
			}
			if info.Keyframe != tt.keyframe || (info.Config != nil) != tt.keyframe || info.SkipAtRandomAccess != tt.skip {
				t.Errorf("keyframe %v (config %v), skip %v; want keyframe %v, skip %v",
					info.Keyframe, info.Config != nil, info.SkipAtRandomAccess, tt.keyframe, tt.skip)
			}
		})
	}
}
