package codectest

import (
	"bytes"
	"errors"
	"testing"

	"github.com/kiroku-sfu/kiroku/mux"
)

// FrameCase is one case of an H.264 or H.265 depacketizer table test.
type FrameCase struct {
	Name     string
	Before   [][][]byte // frames fed first, each must succeed
	Payloads [][]byte
	Want     []byte // output after the "xx" prefix
	Keyframe bool
	WantErr  error // nil: success
}

// RunFrameCases runs each case on a fresh depacketizer from
// newDepacketizer, appending to "xx" in a buffer with spare capacity: a
// failed call must return that prefix untouched and an empty FrameInfo, a
// successful one the prefix, Want, and a Config exactly on keyframes.
func RunFrameCases(t *testing.T, newDepacketizer func() mux.FrameDepacketizer, cases []FrameCase) {
	for _, tt := range cases {
		t.Run(tt.Name, func(t *testing.T) {
			d := newDepacketizer()
			for i, fr := range tt.Before {
				if _, _, err := d.AppendFrame(nil, fr); err != nil {
					t.Fatalf("setup frame %d: %v", i, err)
				}
			}
			dst := make([]byte, 2, 4096) // spare capacity: errors must not touch the prefix
			copy(dst, "xx")
			out, info, err := d.AppendFrame(dst, tt.Payloads)
			if tt.WantErr != nil {
				if !errors.Is(err, tt.WantErr) {
					t.Fatalf("err %v, want %v", err, tt.WantErr)
				}
				if string(out) != "xx" || info != (mux.FrameInfo{}) {
					t.Fatalf("failed call returned %q, %+v", out, info)
				}
				return
			}
			if err != nil {
				t.Fatalf("AppendFrame: %v", err)
			}
			if string(out[:2]) != "xx" || !bytes.Equal(out[2:], tt.Want) {
				t.Fatalf("output %x\nwant   7878%x", out, tt.Want)
			}
			if info.Keyframe != tt.Keyframe || (info.Config != nil) != tt.Keyframe {
				t.Fatalf("info %+v, keyframe want %v", info, tt.Keyframe)
			}
		})
	}
}

// FuzzFrames fuzzes an H.264 or H.265 depacketizer from newDepacketizer
// with the seeds (each the payloads of one frame, encoded with
// JoinPayloads). Every input is depacketized twice, so that the second
// pass sees the parameter sets of the first: a failed call must return
// its "xx" prefix untouched and no Config, a successful one
// length-prefixed NAL units of at least minUnit bytes, at most growth
// times the input size, and a Config exactly on keyframes.
func FuzzFrames(f *testing.F, newDepacketizer func() mux.FrameDepacketizer, seeds [][][]byte, growth, minUnit int) {
	for _, s := range seeds {
		f.Add(JoinPayloads(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		payloads := SplitPayloads(data)
		d := newDepacketizer()
		for range 2 {
			out, info, err := d.AppendFrame([]byte("xx"), payloads)
			if err != nil {
				if string(out) != "xx" || info.Config != nil {
					t.Fatalf("failed call returned %x, %+v", out, info)
				}
				continue
			}
			CheckLengthPrefixed(t, out[2:], growth*len(data), minUnit)
			if info.Keyframe != (info.Config != nil) {
				t.Fatalf("keyframe %v with config %v", info.Keyframe, info.Config)
			}
		}
		for _, p := range payloads {
			d.IsFrameStart(p)
		}
	})
}

// CheckAccessUnits sends each access unit of a 320x240 encoder stream
// (its NAL units) through packetize and d, and compares the output with
// wantAU's, which also says whether the unit is a keyframe: a keyframe must
// come with a 320x240 Config, other units with none. It returns the
// number of keyframes and the first keyframe's Config.
func CheckAccessUnits(t *testing.T, d mux.FrameDepacketizer, aus [][][]byte,
	packetize func(annexB []byte) [][]byte, wantAU func(au [][]byte) ([]byte, bool),
) (keyframes int, first *mux.VideoConfig) {
	t.Helper()
	for i, au := range aus {
		got, info, err := d.AppendFrame(nil, packetize(AnnexB(au)))
		if err != nil {
			t.Fatalf("access unit %d: %v", i, err)
		}
		want, key := wantAU(au)
		if !bytes.Equal(got, want) {
			t.Fatalf("access unit %d: output differs from the encoder's NAL units (%d vs %d bytes)", i, len(got), len(want))
		}
		if info.Keyframe != key || (info.Config != nil) != key {
			t.Fatalf("access unit %d: keyframe %v config %v, want keyframe %v", i, info.Keyframe, info.Config != nil, key)
		}
		if key {
			keyframes++
			if info.Config.Width != 320 || info.Config.Height != 240 {
				t.Fatalf("access unit %d: size %dx%d", i, info.Config.Width, info.Config.Height)
			}
			if first == nil {
				first = info.Config
			}
		}
	}
	return keyframes, first
}
