package depack

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/kiroku-sfu/kiroku/mux"
)

// without returns ins minus the entries at the given indexes.
func without(ins []input, idx ...int) []input {
	var out []input
	for i, in := range ins {
		if !slices.Contains(idx, i) {
			out = append(out, in)
		}
	}
	return out
}

// reversedChunks reverses every chunk of n packets, keeping arrival times
// increasing in the new order (packets overtaking each other on the path).
func reversedChunks(ins []input, n int) []input {
	out := slices.Clone(ins)
	for i := 0; i < len(out); i += n {
		slices.Reverse(out[i:min(i+n, len(out))])
	}
	for i := range out {
		out[i].arrival = ins[i].arrival
	}
	return out
}

func doubled(ins []input) []input {
	var out []input
	for _, in := range ins {
		out = append(out, in, in)
	}
	return out
}

type depackCase struct {
	name      string
	track     mux.TrackInfo
	ins       func() []input
	frames    []int
	gaps      []Gap
	requests  int
	check     func(t *testing.T, c *collector, s Stats)
	wantError error
}

func videoCases() []depackCase {
	return []depackCase{
		{name: "in order", ins: func() []input { g := gen{}; return g.gop(10, 5) }, frames: seqOf(0, 10),
			check: func(t *testing.T, c *collector, s Stats) {
				if s.PacketsReceived != 30 || s.FramesEmitted != 10 || s.PacketsLost != 0 {
					t.Errorf("stats %+v", s)
				}
				for i, f := range c.frames {
					if want := []byte{flagStart | flagKey*byte(boolInt(i%5 == 0)), byte(i), 0, 0, byte(i), 1, 0, byte(i), 2}; !slices.Equal(f.Data, want) {
						t.Errorf("frame %d data %v, want %v", i, f.Data, want)
					}
					if f.Timestamp != int64(i)*3000 || f.Keyframe != (i%5 == 0) || (f.Config != nil) != f.Keyframe {
						t.Errorf("frame %d: ts %d key %v config %v", i, f.Timestamp, f.Keyframe, f.Config)
					}
				}
			}},
		{name: "reordered by 20 packets", ins: func() []input { g := gen{}; return reversedChunks(g.gopOf(20, 5, 10), 21) },
			frames: seqOf(0, 20), check: wantStats(Stats{PacketsReceived: 200, FramesEmitted: 20})},
		{name: "duplicates dropped", ins: func() []input { g := gen{}; return doubled(g.gop(10, 5)) },
			frames: seqOf(0, 10), check: wantStats(Stats{PacketsReceived: 60, PacketsDuplicate: 30, FramesEmitted: 10})},
		{name: "padding between frames", ins: func() []input {
			g := gen{}
			var out []input
			for i := range 6 {
				out = append(out, g.video(2, flagKey*byte(boolInt(i == 0)))...)
				out = append(out, g.padding())
			}
			return out
		}, frames: seqOf(0, 6), check: wantStats(Stats{PacketsReceived: 18, PacketsPadding: 6, FramesEmitted: 6})},
		{name: "packet lost mid-frame drops to next keyframe", ins: func() []input { g := gen{}; return without(g.gop(10, 5), 10) },
			frames: []int{0, 1, 2, 5, 6, 7, 8, 9}, requests: 1,
			gaps:  []Gap{{Start: 9000, End: 15000, Cause: mux.GapLoss, DroppedFrames: 2}},
			check: wantStats(Stats{PacketsReceived: 29, PacketsLost: 1, FramesEmitted: 8, FramesDropped: 2, KeyframeRequests: 1})},
		{name: "caller drops are backpressure", ins: func() []input {
			g := gen{}
			ins := g.gop(10, 5)
			return concat(ins[:10], []input{{}}, ins[11:])
		}, frames: []int{0, 1, 2, 5, 6, 7, 8, 9}, requests: 1,
			gaps: []Gap{{Start: 9000, End: 15000, Cause: mux.GapBackpressure, DroppedFrames: 2}}},
		{name: "first packet of a frame lost", ins: func() []input { g := gen{}; return without(g.gop(10, 5), 6) },
			frames: []int{0, 1, 5, 6, 7, 8, 9}, requests: 1,
			gaps: []Gap{{Start: 6000, End: 15000, Cause: mux.GapLoss, DroppedFrames: 3}}},
		{name: "stream starts mid-GOP", ins: func() []input { g := gen{}; return g.gop(10, 5)[6:] },
			frames: []int{5, 6, 7, 8, 9}, requests: 1,
			gaps: []Gap{{Start: 0, End: 9000, Cause: mux.GapWaitKeyframe, DroppedFrames: 3}}},
		{name: "codec error drops to next keyframe", ins: func() []input {
			g := gen{}
			return concat(g.gop(2, 5), g.video(3, flagBad), g.gop(7, 3))
		}, frames: []int{0, 1, 3, 4, 5, 6, 7, 8, 9}, requests: 1,
			gaps: []Gap{{Start: 6000, End: 9000, Cause: mux.GapCodecError, DroppedFrames: 1}}},
		{name: "an empty frame is a codec error", ins: func() []input {
			g := gen{}
			return concat(g.gop(2, 5), g.video(3, flagEmpty), g.gop(7, 3))
		}, frames: []int{0, 1, 3, 4, 5, 6, 7, 8, 9}, requests: 1,
			gaps: []Gap{{Start: 6000, End: 9000, Cause: mux.GapCodecError, DroppedFrames: 1}}},
		{name: "B-frames are fatal", ins: func() []input {
			g := gen{}
			return concat(g.gop(2, 5), g.video(3, flagReordered), g.gop(2, 5))
		}, frames: []int{0, 1}, wantError: mux.ErrReordering},
		{name: "sequence number wraps", ins: func() []input { g := gen{seq: 65530}; return reversedChunks(g.gop(10, 5), 4) },
			frames: seqOf(0, 10), check: timestampsStep(3000)},
		{name: "timestamp wraps", ins: func() []input { g := gen{ts: 1<<32 - 4000}; return g.gop(10, 5) },
			frames: seqOf(0, 10), check: timestampsStep(3000)},
		{name: "large forward jump is loss", ins: func() []input {
			g := gen{}
			first := g.gop(5, 5)
			g.seq += 500
			g.ts += 300000
			return concat(first, g.gop(5, 5))
		}, frames: seqOf(0, 10), requests: 1,
			gaps:  []Gap{{Start: 15000, End: 315000, Cause: mux.GapLoss}},
			check: wantStats(Stats{PacketsReceived: 30, PacketsLost: 500, FramesEmitted: 10, KeyframeRequests: 1})},
		{name: "SSRC change continues the timeline", ins: func() []input {
			g := gen{ssrc: 1}
			first := g.gop(5, 5)
			g2 := gen{ssrc: 2, seq: 40000, ts: 777, arrival: g.arrival + time.Second, frame: 5}
			return concat(first, g2.gop(5, 5))
		}, frames: seqOf(0, 10),
			gaps: []Gap{{Start: 15000, End: 104790, Cause: mux.GapSSRCChange}},
			check: func(t *testing.T, c *collector, s Stats) {
				if c.frames[5].Timestamp != 104790 || c.frames[5].SSRC != 2 || c.frames[4].SSRC != 1 || s.Restarts != 1 {
					t.Errorf("frame 5 ts %d ssrc %d, restarts %d", c.frames[5].Timestamp, c.frames[5].SSRC, s.Restarts)
				}
			}},
		{name: "a stray packet of another SSRC is dropped", ins: func() []input {
			g := gen{}
			ins := g.gop(10, 5)
			stray := gen{ssrc: 99, seq: 500, arrival: ins[10].arrival}
			return concat(ins[:10], stray.video(1, flagKey), ins[10:])
		}, frames: seqOf(0, 10), check: wantStats(Stats{PacketsReceived: 31, PacketsInvalid: 1, FramesEmitted: 10})},
		{name: "sequence restart on the same SSRC", ins: func() []input {
			g := gen{}
			first := g.gop(5, 5)
			g.seq += 20000
			return concat(first, g.gop(5, 5))
		}, frames: seqOf(0, 10), check: wantStats(Stats{PacketsReceived: 30, FramesEmitted: 10, Restarts: 1})},
		{name: "stream ends inside a gap", ins: func() []input { g := gen{}; return without(g.gop(5, 5), 4) },
			frames: []int{0}, requests: 1,
			gaps: []Gap{{Start: 3000, End: 15000, Cause: mux.GapLoss, DroppedFrames: 4}}},
	}
}

func audioCases() []depackCase {
	return []depackCase{
		{name: "audio in order", track: audioTrack, ins: func() []input { return audioRun(gen{}, 10) },
			frames: seqOf(0, 10), check: timestampsStep(960)},
		{name: "audio loss is a gap", track: audioTrack, ins: func() []input { return without(audioRun(gen{}, 10), 3, 4) },
			frames: []int{0, 1, 2, 5, 6, 7, 8, 9},
			gaps:   []Gap{{Start: 2880, End: 4800, Cause: mux.GapLoss, DroppedFrames: 2}}},
		{name: "audio caller drops are backpressure", track: audioTrack, ins: func() []input {
			ins := audioRun(gen{}, 10)
			return concat(ins[:3], []input{{}}, ins[5:])
		}, frames: []int{0, 1, 2, 5, 6, 7, 8, 9},
			gaps: []Gap{{Start: 2880, End: 4800, Cause: mux.GapBackpressure, DroppedFrames: 2}}},
		{name: "audio DTX is not a gap", track: audioTrack, ins: func() []input {
			g := gen{}
			first := audioRun(g, 5)
			g = gen{seq: 5, ts: 5*960 + 48000, frame: 5, arrival: time.Second}
			return concat(first, audioRun(g, 5))
		}, frames: seqOf(0, 10), check: func(t *testing.T, c *collector, s Stats) {
			if c.frames[5].Timestamp != 5*960+48000 {
				t.Errorf("frame 5 at %d", c.frames[5].Timestamp)
			}
		}},
		{name: "audio codec error", track: audioTrack, ins: func() []input {
			g := gen{}
			return []input{g.audio(0), g.audio(flagBad), g.audio(0)}
		}, frames: []int{0, 2}, gaps: []Gap{{Start: 960, End: 1920, Cause: mux.GapCodecError, DroppedFrames: 1}}},
	}
}

func audioRun(g gen, n int) []input {
	var out []input
	for range n {
		out = append(out, g.audio(0))
	}
	return out
}

func TestAssembler(t *testing.T) {
	for _, tc := range append(videoCases(), audioCases()...) {
		t.Run(tc.name, func(t *testing.T) {
			track := tc.track
			if track.Codec == "" {
				track = videoTrack
			}
			c, a, err := run(t, track, tc.ins())
			if !errors.Is(err, tc.wantError) || (err == nil) != (tc.wantError == nil) {
				t.Fatalf("error %v, want %v", err, tc.wantError)
			}
			if got := frameNumbers(c.frames); !slices.Equal(got, tc.frames) {
				t.Errorf("frames %v, want %v", got, tc.frames)
			}
			if !reflect.DeepEqual(c.gaps, tc.gaps) {
				t.Errorf("gaps %+v, want %+v", c.gaps, tc.gaps)
			}
			if c.requests != tc.requests {
				t.Errorf("%d keyframe requests, want %d", c.requests, tc.requests)
			}
			if tc.check != nil {
				tc.check(t, c, a.Stats())
			}
		})
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func wantStats(want Stats) func(*testing.T, *collector, Stats) {
	return func(t *testing.T, _ *collector, got Stats) {
		t.Helper()
		if got != want {
			t.Errorf("stats %+v, want %+v", got, want)
		}
	}
}

func timestampsStep(step int64) func(*testing.T, *collector, Stats) {
	return func(t *testing.T, c *collector, _ Stats) {
		t.Helper()
		for i, f := range c.frames {
			if f.Timestamp != int64(i)*step {
				t.Errorf("frame %d at %d, want %d", i, f.Timestamp, int64(i)*step)
			}
		}
	}
}
