package sfu

import (
	"slices"
	"testing"
)

func TestReceiveLogMissing(t *testing.T) {
	seqs := func(from, to uint16) []uint16 { // from..to, wrapping
		var out []uint16
		for s := from; ; s++ {
			out = append(out, s)
			if s == to {
				return out
			}
		}
	}
	cases := []struct {
		name    string
		arrived []uint16
		missing []uint16
	}{
		{"nothing yet", nil, nil},
		{"in order", []uint16{1, 2, 3, 4}, nil},
		{"one lost", []uint16{1, 2, 4, 5}, []uint16{3}},
		{"late arrival fills the gap", []uint16{1, 2, 4, 3, 5}, nil},
		{"reordered, then lost", []uint16{10, 12, 11, 15}, []uint16{13, 14}},
		{"duplicates", []uint16{7, 7, 9, 9}, []uint16{8}},
		{"across the wrap", []uint16{65534, 65535, 1, 2}, []uint16{0}},
		{"a burst lost", append([]uint16{100}, 106), []uint16{101, 102, 103, 104, 105}},
		{"far behind the newest is ignored", []uint16{40000, 40001, 10000}, nil},
		{"a jump past the window forgets what it skipped",
			[]uint16{1, 2, 3, 3 + nackLogSize + 10}, seqs(3+10+1, 3+nackLogSize+9)},
		{"forgotten packets arriving late change nothing",
			[]uint16{1, 1000, 2}, seqs(1000-nackLogSize+1, 999)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var l receiveLog
			for _, s := range tc.arrived {
				l.add(s)
			}
			if got := l.missing(nil); !slices.Equal(got, tc.missing) {
				t.Errorf("missing %v, want %v", short(got), short(tc.missing))
			}
		})
	}
}

// short keeps failure messages readable for long lists.
func short(s []uint16) []uint16 {
	if len(s) > 12 {
		return append(slices.Clone(s[:6]), s[len(s)-6:]...)
	}
	return s
}

// TestReceiveLogForgetsSlots checks that a slot reused by a newer
// sequence number never reports the older one's arrival.
func TestReceiveLogForgetsSlots(t *testing.T) {
	var l receiveLog
	for s := uint16(0); s < 3*nackLogSize; s += 2 { // every other packet lost
		l.add(s)
	}
	got := l.missing(nil)
	if len(got) == 0 || len(got) > nackLogSize/2 {
		t.Fatalf("%d missing, want up to %d", len(got), nackLogSize/2)
	}
	for _, s := range got {
		if s%2 == 0 {
			t.Fatalf("%d reported missing, but it arrived", s)
		}
	}
}
