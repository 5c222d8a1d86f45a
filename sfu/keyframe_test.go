package sfu

import (
	"testing"
	"time"
)

func TestKeyframeLimiter(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	type step struct {
		op   string // "req" or "due"
		ms   int
		want bool
	}
	for _, tc := range []struct {
		name  string
		steps []step
		sent  uint64
	}{
		{"first request sends", []step{{"req", 0, true}}, 1},
		{"second inside interval waits", []step{{"req", 0, true}, {"req", 100, false}, {"due", 500, false}, {"due", 1000, true}, {"due", 1001, false}}, 2},
		{"many requests merge into one", []step{{"req", 0, true}, {"req", 10, false}, {"req", 20, false}, {"req", 30, false}, {"due", 1000, true}, {"due", 2500, false}}, 2},
		{"request after interval sends", []step{{"req", 0, true}, {"req", 1000, true}, {"req", 2500, true}}, 3},
		{"due without request never sends", []step{{"due", 0, false}, {"due", 5000, false}}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := &keyframeLimiter{interval: time.Second}
			for i, s := range tc.steps {
				var got bool
				if s.op == "req" {
					got = l.request(at(s.ms))
				} else {
					got = l.due(at(s.ms))
				}
				if got != s.want {
					t.Fatalf("step %d (%s at %d ms) = %v, want %v", i, s.op, s.ms, got, s.want)
				}
			}
			if sent, _ := l.counts(); sent != tc.sent {
				t.Errorf("sent %d PLIs, want %d", sent, tc.sent)
			}
		})
	}
}
