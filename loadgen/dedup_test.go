package loadgen

import "testing"

func TestFlowFirst(t *testing.T) {
	for _, tc := range []struct {
		name string
		seqs []uint64
		want []bool
	}{
		{"in order", []uint64{0, 1, 2}, []bool{true, true, true}},
		{"duplicate", []uint64{5, 5, 6, 5}, []bool{true, false, true, false}},
		{"reordered fills a hole", []uint64{1, 3, 2, 2}, []bool{true, true, true, false}},
		{"late beyond window", []uint64{2000, 2000 - dedupWindow, 2000 - dedupWindow + 1}, []bool{true, false, true}},
		{"jump clears old bits", []uint64{10, 10 + dedupWindow, 10 + 2*dedupWindow - 1}, []bool{true, true, true}},
		{"jump keeps new bits", []uint64{1, 1 + 3*dedupWindow, 1 + 3*dedupWindow}, []bool{true, true, false}},
		{"wrapped slot reused", []uint64{0, dedupWindow - 1, dedupWindow, dedupWindow}, []bool{true, true, true, false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var f flow
			for i, s := range tc.seqs {
				if got := f.first(s); got != tc.want[i] {
					t.Fatalf("packet %d (seq %d): first = %v, want %v", i, s, got, tc.want[i])
				}
			}
		})
	}
}
