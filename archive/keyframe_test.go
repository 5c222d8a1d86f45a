package archive

import (
	"testing"
	"time"
)

func TestKeyframeSchedule(t *testing.T) {
	base := time.Unix(1000, 0)
	at := func(ms int) time.Time { return base.Add(time.Duration(ms) * time.Millisecond) }
	for _, tc := range []struct {
		name     string
		periodic time.Duration
		steps    func(k *keyframes)
		want     int
	}{
		{"start asks until the first keyframe, rate-limited", 0, func(k *keyframes) {
			for ms := 0; ms <= 2500; ms += 100 {
				k.tick(at(ms))
			}
		}, 3},
		{"no requests after the first keyframe without periodic", 0, func(k *keyframes) {
			k.tick(at(0))
			k.sawKeyframe()
			for ms := 0; ms <= 60000; ms += 500 {
				k.tick(at(ms))
			}
		}, 1},
		{"periodic only when the sender sent none", 20 * time.Second, func(k *keyframes) {
			k.tick(at(0))
			k.sawKeyframe()
			for ms := 0; ms <= 45000; ms += 500 {
				k.tick(at(ms))
				if ms == 15000 { // the sender's own keyframe resets the interval
					k.sawKeyframe()
				}
			}
		}, 2}, // at 0 and at 35 s, 20 s after the sender's own keyframe

		{"explicit wants are rate-limited", 0, func(k *keyframes) {
			k.tick(at(0))
			k.sawKeyframe()
			for ms := 0; ms < 3000; ms += 100 {
				k.now = at(ms)
				k.want()
			}
		}, 3}, // at 0, 1 s and 2 s; the wants after 2 s stay deferred
		{"a want inside the gap goes out when the gap has passed", 0, func(k *keyframes) {
			k.tick(at(0))
			k.sawKeyframe()
			k.now = at(100)
			k.want() // sent
			k.now = at(400)
			k.want() // deferred: a split point reached 300 ms after the request
			for ms := 500; ms <= 3000; ms += 100 {
				k.tick(at(ms))
			}
		}, 2}, // at 100 ms and at 1.1 s
		{"a keyframe answers a deferred want", 0, func(k *keyframes) {
			k.tick(at(0))
			k.sawKeyframe()
			k.now = at(100)
			k.want()
			k.now = at(400)
			k.want()
			k.tick(at(600))
			k.sawKeyframe()
			for ms := 700; ms <= 3000; ms += 100 {
				k.tick(at(ms))
			}
		}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			k := &keyframes{send: func() { calls++ }, periodic: tc.periodic}
			tc.steps(k)
			if calls != tc.want || k.sent != tc.want {
				t.Errorf("requests = %d (counted %d), want %d", calls, k.sent, tc.want)
			}
		})
	}
}
