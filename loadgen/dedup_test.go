package loadgen

import "testing"

func TestFlowFirst(t *testing.T) {
	for _, tc := range []struct {
		name string
		seqs []uint64
		want []bool
		span uint64
	}{
		{"in order", []uint64{0, 1, 2}, []bool{true, true, true}, 3},
		{"duplicate", []uint64{5, 5, 6, 5}, []bool{true, false, true, false}, 2},
		{"reordered fills a hole", []uint64{1, 3, 2, 2}, []bool{true, true, true, false}, 3},
		{"late beyond window", []uint64{2000, 2000 - dedupWindow, 2000 - dedupWindow + 1}, []bool{true, false, true}, 1},
		{"jump clears old bits", []uint64{10, 10 + dedupWindow, 10 + 2*dedupWindow - 1}, []bool{true, true, true}, 2 * dedupWindow},
		{"jump keeps new bits", []uint64{1, 1 + 3*dedupWindow, 1 + 3*dedupWindow}, []bool{true, true, false}, 1 + 3*dedupWindow},
		{"wrapped slot reused", []uint64{0, dedupWindow - 1, dedupWindow, dedupWindow}, []bool{true, true, true, false}, dedupWindow + 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var f flow
			var span uint64
			for i, s := range tc.seqs {
				got, advanced := f.first(s)
				if got != tc.want[i] {
					t.Fatalf("packet %d (seq %d): first = %v, want %v", i, s, got, tc.want[i])
				}
				span += advanced
			}
			if span != tc.span {
				t.Fatalf("span %d, want %d", span, tc.span)
			}
		})
	}
}
