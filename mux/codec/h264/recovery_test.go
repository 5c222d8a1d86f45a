package h264

import "testing"

// TestRecoveryPointIsNotAKeyframe pins kiroku's rule for senders that
// recover without IDR pictures (a recovery point SEI on a P picture, or
// intra refresh spread over P pictures): only an IDR access unit is a
// keyframe, so after a loss or at a mid-stream start the assembler drops
// frames and asks for a keyframe until an IDR arrives, and never writes a
// picture that refers to one it did not write.
func TestRecoveryPointIsNotAKeyframe(t *testing.T) {
	// SEI payload type 6 (recovery point), 2 bytes: recovery_frame_cnt 0,
	// exact_match 1, broken_link 0, changing_slice_group_idc 0.
	recoverySEI := []byte{0x06, 0x06, 0x01, 0xc4, 0x80}
	tests := []struct {
		name     string
		payloads [][]byte
		keyframe bool
	}{
		{"recovery point SEI on a P picture with parameter sets", [][]byte{stapA(testSPS, testPPS, recoverySEI), testP}, false},
		{"intra refresh P picture", [][]byte{testP}, false},
		{"IDR", [][]byte{stapA(testSPS, testPPS), testIDR}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDepacketizer()
			_, info, err := d.AppendFrame(nil, tt.payloads)
			if err != nil {
				t.Fatal(err)
			}
			if info.Keyframe != tt.keyframe {
				t.Errorf("keyframe %v, want %v", info.Keyframe, tt.keyframe)
			}
		})
	}
}
