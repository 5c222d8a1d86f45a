package node

import (
	"testing"

	"github.com/kiroku-sfu/kiroku/archive"
	"github.com/kiroku-sfu/kiroku/sfu"
)

// TestKeyframeRequestsByReason splits the SFU's requests by who asked and
// never lets the derived viewer count go back when its parts are read at
// different moments.
func TestKeyframeRequestsByReason(t *testing.T) {
	var viewer monotonic
	for _, tc := range []struct {
		name                  string
		plis, merged          uint64
		record, split         uint64
		viewer, recorder, spl float64
	}{
		{"none", 0, 0, 0, 0, 0, 0, 0},
		{"viewers only", 3, 2, 0, 0, 5, 0, 0},
		{"recorders too", 6, 4, 2, 1, 7, 2, 1},
		{"recorders read ahead of the SFU", 6, 4, 5, 3, 7, 5, 3},
		{"caught up", 9, 6, 5, 3, 7, 5, 3},
		{"more viewers", 12, 6, 5, 3, 10, 5, 3},
	} {
		got := keyframeRequests(sfu.Stats{KeyframeRequests: tc.plis, KeyframeDeferred: tc.merged},
			archive.Counters{KeyframeRecord: tc.record, KeyframeSplit: tc.split}, &viewer)
		if got["viewer"] != tc.viewer || got["recorder"] != tc.recorder || got["split"] != tc.spl {
			t.Errorf("%s: %v, want viewer %v recorder %v split %v", tc.name, got, tc.viewer, tc.recorder, tc.spl)
		}
	}
}
