package depack

import (
	"slices"
	"testing"
	"time"
)

// TestHoleWaitsMaxLatency checks that a hole holds later frames back until
// MaxLatency of arrival time has passed, and that the missing packet
// arriving afterwards is counted late and ignored.
func TestHoleWaitsMaxLatency(t *testing.T) {
	g := gen{}
	ins := g.gop(4, 2) // frames 0 (key), 1, 2 (key), 3
	missing := ins[4]  // frame 1, second packet
	ins = without(ins, 4)
	for i := range ins {
		ins[i].arrival = time.Duration(i) * 10 * time.Millisecond
	}
	c := &collector{}
	cfg := c.config(videoTrack)
	cfg.MaxLatency = 150 * time.Millisecond
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		in     input
		frames []int
		lost   int
	}{
		{ins[0], nil, 0}, {ins[1], nil, 0}, {ins[2], nil, 0}, {ins[3], nil, 0},
		{ins[4], nil, 0}, {ins[5], nil, 0}, {ins[6], nil, 0}, {ins[7], nil, 0},
		// 150 ms after the first packet: frame 0 leaves, the hole waits.
		{input{ins[8].pkt, 150 * time.Millisecond}, []int{0}, 0},
		// 150 ms after the first packet behind the hole (40 ms): given up.
		{input{ins[9].pkt, 190 * time.Millisecond}, []int{0, 2}, 1},
		{input{ins[10].pkt, 200 * time.Millisecond}, []int{0, 2, 3}, 1},
		{input{missing.pkt, 210 * time.Millisecond}, []int{0, 2, 3}, 1},
	}
	for i, st := range steps {
		if err := a.Push(st.in.pkt, st.in.arrival); err != nil {
			t.Fatal(err)
		}
		if got := frameNumbers(c.frames); !slices.Equal(got, st.frames) || a.Stats().PacketsLost != st.lost {
			t.Fatalf("step %d: frames %v lost %d, want %v lost %d", i, got, a.Stats().PacketsLost, st.frames, st.lost)
		}
	}
	if s := a.Stats(); s.PacketsLate != 1 || s.FramesDropped != 1 || s.KeyframeRequests != 1 {
		t.Errorf("stats %+v", s)
	}
}

func TestConfigValidate(t *testing.T) {
	ok := (&collector{}).config(videoTrack)
	tests := []struct {
		name  string
		edit  func(*Config)
		valid bool
	}{
		{"complete", func(*Config) {}, true},
		{"no codec", func(c *Config) { c.Track.Codec = "" }, false},
		{"no clock", func(c *Config) { c.Track.ClockRate = 0 }, false},
		{"no depacketizer", func(c *Config) { c.Depacketizer = nil }, false},
		{"no OnFrame", func(c *Config) { c.OnFrame = nil }, false},
		{"negative latency", func(c *Config) { c.MaxLatency = -1 }, false},
		{"huge window", func(c *Config) { c.ReorderWindow = 5000 }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := ok
			tc.edit(&cfg)
			if _, err := New(cfg); (err == nil) != tc.valid {
				t.Errorf("New: %v, valid %v", err, tc.valid)
			}
		})
	}
}

func TestRingSize(t *testing.T) {
	for _, tc := range []struct{ in, want int }{{1, 64}, {32, 64}, {33, 128}, {100, 256}, {4096, 8192}} {
		if got := ringSize(tc.in); got != tc.want {
			t.Errorf("ringSize(%d) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

// TestHoleGivenUpAfterReorderWindow checks that a hole is given up as soon
// as a packet ReorderWindow numbers past it arrives, long before MaxLatency.
func TestHoleGivenUpAfterReorderWindow(t *testing.T) {
	g := gen{}
	ins := without(g.gopOf(8, 4, 10), 15) // frame 1 loses a packet; keyframe at 4
	c := &collector{}
	a, err := New(c.config(videoTrack))
	if err != nil {
		t.Fatal(err)
	}
	for i, in := range ins {
		if err := a.Push(in.pkt, time.Duration(i)*time.Microsecond); err != nil {
			t.Fatal(err)
		}
		// Sequence number 15 is missing; packet 15+32 is input 46.
		if lost := a.Stats().PacketsLost; lost != boolInt(i >= 46) {
			t.Fatalf("after input %d: %d lost", i, lost)
		}
	}
	if got := frameNumbers(c.frames); !slices.Equal(got, []int{0, 4, 5, 6, 7}) {
		t.Errorf("frames %v without a flush", got)
	}
}
