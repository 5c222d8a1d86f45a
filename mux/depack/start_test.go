package depack

import (
	"errors"
	"slices"
	"testing"

	"github.com/kiroku-sfu/kiroku/mux"
)

// frameSpec is one synthetic video frame of 2 packets; lose drops its
// second packet.
type frameSpec struct {
	flags byte
	lose  bool
}

func frames(g *gen, specs ...frameSpec) []input {
	var out []input
	for _, s := range specs {
		f := g.video(2, s.flags)
		if s.lose {
			f = f[:1]
		}
		out = append(out, f...)
	}
	return out
}

var (
	key    = frameSpec{flags: flagKey}
	delta  = frameSpec{}
	rasl   = frameSpec{flags: flagRASL}
	lost   = frameSpec{lose: true}
	noPar  = frameSpec{flags: flagKey | flagNoParams}
	unsupp = frameSpec{flags: flagUnsupp}
)

// TestRandomAccessSkip checks that frames marked SkipAtRandomAccess (H.265
// RASL pictures) are dropped after a keyframe at which decoding started or
// restarted, and kept after a keyframe reached by decoding.
func TestRandomAccessSkip(t *testing.T) {
	tests := []struct {
		name    string
		specs   []frameSpec
		want    []int
		skipped int
	}{
		{"start at a keyframe", []frameSpec{key, rasl, rasl, delta, delta}, []int{0, 3, 4}, 2},
		{"keyframe reached by decoding", []frameSpec{key, delta, key, rasl, delta}, []int{0, 1, 2, 3, 4}, 0},
		{"restart after a loss", []frameSpec{key, delta, lost, delta, key, rasl, delta, key, rasl}, []int{0, 1, 4, 6, 7, 8}, 1},
		{"mid-GOP start", []frameSpec{delta, rasl, key, rasl, delta}, []int{2, 4}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := gen{}
			c, a, err := run(t, videoTrack, frames(&g, tt.specs...))
			if err != nil {
				t.Fatal(err)
			}
			if got := frameNumbers(c.frames); !slices.Equal(got, tt.want) {
				t.Errorf("frames %v, want %v", got, tt.want)
			}
			if s := a.Stats(); s.FramesLeadingSkipped != tt.skipped {
				t.Errorf("%d leading pictures skipped, want %d", s.FramesLeadingSkipped, tt.skipped)
			}
		})
	}
}

// TestVideoFailure checks the verdict on tracks that never start or that
// the codec, not the network, starves.
func TestVideoFailure(t *testing.T) {
	rep := func(s frameSpec, n int) []frameSpec { return slices.Repeat([]frameSpec{s}, n) }
	tests := []struct {
		name  string
		specs []frameSpec
		want  Failure
	}{
		{"clean", append([]frameSpec{key}, rep(delta, 9)...), ""},
		{"mid-GOP start", append(rep(delta, 5), key, delta), ""},
		{"heavy loss is not a failure", append([]frameSpec{key, lost}, rep(delta, 20)...), ""},
		{"no packets", nil, FailureNoPackets},
		{"no keyframe", rep(delta, 10), FailureNoKeyframe},
		{"keyframe lost", append([]frameSpec{{flags: flagKey, lose: true}}, rep(delta, 10)...), FailureNoKeyframe},
		{"no parameter sets", append([]frameSpec{noPar}, rep(delta, 9)...), FailureNoParameterSets},
		{"parameter sets only late", slices.Concat([]frameSpec{noPar}, rep(delta, 9), []frameSpec{key, delta}), FailureNoParameterSets},
		{"parameter sets early enough", slices.Concat([]frameSpec{noPar}, rep(delta, 3), []frameSpec{key}, rep(delta, 5)), ""},
		{"unsupported", append([]frameSpec{key}, rep(unsupp, 5)...), FailureUnsupported},
		{"B-frames stop the track first", []frameSpec{{flags: flagKey | flagReordered}}, FailureUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := gen{}
			_, a, err := run(t, videoTrack, frames(&g, tt.specs...))
			if err != nil && !errors.Is(err, mux.ErrReordering) {
				t.Fatal(err)
			}
			if got := a.Stats().VideoFailure(); got != tt.want {
				t.Errorf("failure %q, want %q (stats %+v)", got, tt.want, a.Stats())
			}
			if tt.want != "" && tt.want.Describe() == string(tt.want) {
				t.Errorf("%q has no description", tt.want)
			}
		})
	}
}

// TestStepAfterWholeFrameLost checks that a frame lost whole (a timestamp
// step of two frames) does not stretch the estimated frame step, which
// places the end of a gap still open when the stream ends.
func TestStepAfterWholeFrameLost(t *testing.T) {
	g := gen{}
	ins := frames(&g, key, delta, delta)
	frames(&g, delta) // lost whole: no packet of it arrives
	last := frames(&g, lost)
	c, _, err := run(t, videoTrack, append(ins, last...))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.gaps) != 1 || c.gaps[0].End != 5*3000 {
		t.Errorf("gaps %+v, want one ending at %d (the last frame seen plus one frame)", c.gaps, 5*3000)
	}
}
