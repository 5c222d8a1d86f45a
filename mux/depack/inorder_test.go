package depack

import (
	"errors"
	"io"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pion/rtp"

	"github.com/kiroku-sfu/kiroku/mux"
	"github.com/kiroku-sfu/kiroku/mux/codec"
	"github.com/kiroku-sfu/kiroku/mux/rtpdump"
)

// twin runs the same packets through two Assemblers, one with the in-order
// path and one that puts every packet in the ring, so their outputs can be
// compared.
type twin struct {
	direct, ringed     *Assembler
	dOut, rOut         *collector
	dErr, rErr         error
	scratch            []byte
	track              mux.TrackInfo
	directUsed, pushes int
}

// newTwin builds both Assemblers; newDep returns a fresh depacketizer.
func newTwin(t *testing.T, track mux.TrackInfo, newDep func() mux.FrameDepacketizer) *twin {
	t.Helper()
	tw := &twin{dOut: &collector{}, rOut: &collector{}, track: track}
	var err error
	cfg := tw.dOut.config(track)
	cfg.Depacketizer = newDep()
	if tw.direct, err = New(cfg); err != nil {
		t.Fatal(err)
	}
	cfg = tw.rOut.config(track)
	cfg.Depacketizer = newDep()
	if tw.ringed, err = New(cfg); err != nil {
		t.Fatal(err)
	}
	tw.ringed.ringOnly = true
	return tw
}

// push gives pkt to both, each time from a copy of its payload that is
// overwritten as soon as Push returns, as a caller reusing its buffer does.
func (tw *twin) push(in input) {
	tw.pushes++
	for _, a := range []*Assembler{tw.direct, tw.ringed} {
		if a.Err() != nil {
			continue
		}
		pkt := *in.pkt
		tw.scratch = append(tw.scratch[:0], in.pkt.Payload...)
		pkt.Payload = tw.scratch
		before := a.inPlace.ext
		_ = a.Push(&pkt, in.arrival)
		if a == tw.direct && a.inPlace.state == slotDone && a.inPlace.ext != before {
			tw.directUsed++
		}
		for i := range tw.scratch {
			tw.scratch[i] = 0xa5
		}
	}
}

// check flushes both and fails unless they delivered the same.
func (tw *twin) check(t *testing.T, name string) {
	t.Helper()
	tw.dErr, tw.rErr = tw.direct.Flush(), tw.ringed.Flush()
	if !errors.Is(tw.dErr, tw.rErr) && (tw.dErr == nil || tw.rErr == nil || tw.dErr.Error() != tw.rErr.Error()) {
		t.Fatalf("%s: errors differ: in order %v, ring %v", name, tw.dErr, tw.rErr)
	}
	if d, r := tw.direct.Stats(), tw.ringed.Stats(); d != r {
		t.Fatalf("%s: stats differ:\nin order %+v\nring     %+v", name, d, r)
	}
	if len(tw.dOut.frames) != len(tw.rOut.frames) {
		t.Fatalf("%s: %d frames in order, %d through the ring", name, len(tw.dOut.frames), len(tw.rOut.frames))
	}
	for i, d := range tw.dOut.frames {
		if r := tw.rOut.frames[i]; !reflect.DeepEqual(d, r) {
			t.Fatalf("%s: frame %d differs:\nin order %+v\nring     %+v", name, i, d, r)
		}
	}
	if !reflect.DeepEqual(tw.dOut.gaps, tw.rOut.gaps) || tw.dOut.requests != tw.rOut.requests {
		t.Fatalf("%s: gaps or keyframe requests differ:\nin order %+v (%d)\nring     %+v (%d)",
			name, tw.dOut.gaps, tw.dOut.requests, tw.rOut.gaps, tw.rOut.requests)
	}
}

// cleanCaptures are the committed captures without loss or reordering.
var cleanCaptures = map[string]bool{"vp8_opus": true, "vp9_opus": true, "av1_opus": true,
	"h264_cb_opus": true, "h264_high_opus": true, "h264_sprop_opus": true,
	"h265_opus": true, "h265_cra_opus": true, "h265_sprop_opus": true}

// TestInOrderPathMatchesRing replays every committed capture (clean, loss,
// reorder, wrap, SSRC change, padding, mid-GOP start, DTX, ...) with the
// real depacketizers, each track once with the in-order path and once
// with every packet through the reorder ring: frames (bytes, times,
// keyframes, configurations), gaps, keyframe requests and counters must be
// identical, and the in-order path must carry most packets of a clean
// capture.
func TestInOrderPathMatchesRing(t *testing.T) {
	paths, err := filepath.Glob("../../fixtures/rtpdumps/*.rtpdump")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no captures under fixtures/rtpdumps: %v", err)
	}
	for _, path := range paths {
		name := strings.TrimSuffix(filepath.Base(path), ".rtpdump")
		t.Run(name, func(t *testing.T) {
			twins := replayTwins(t, path)
			for kind, tw := range twins {
				tw.check(t, kind.String())
				if cleanCaptures[name] && tw.directUsed < tw.pushes*9/10 {
					t.Errorf("%s: in-order path took %d of %d packets of a clean capture", kind, tw.directUsed, tw.pushes)
				}
			}
		})
	}
}

// replayTwins feeds every packet of the capture at path to a twin per
// track, choosing packets as `sfu mux` does (mux/remux): listed SSRC and
// payload type, the first listed stream of each kind naming the codec.
func replayTwins(t *testing.T, path string) map[mux.Kind]*twin {
	t.Helper()
	c, err := rtpdump.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	twins := map[mux.Kind]*twin{}
	for _, st := range c.Sidecar.Streams {
		info := st.TrackInfo()
		if _, ok := twins[info.Kind()]; ok {
			continue
		}
		st := st
		twins[info.Kind()] = newTwin(t, info, func() mux.FrameDepacketizer {
			d, err := codec.NewDepacketizer(st.Codec, st.Fmtp)
			if err != nil {
				t.Fatal(err)
			}
			return d
		})
	}
	var pkt rtp.Packet
	for {
		p, err := c.Next()
		if errors.Is(err, io.EOF) {
			return twins
		}
		if err != nil {
			t.Fatal(err)
		}
		if p.RTCP || p.UnmarshalRTP(&pkt) != nil {
			continue
		}
		if st, ok := c.Sidecar.Stream(pkt.SSRC); ok && pkt.PayloadType == st.PayloadType {
			twins[st.TrackInfo().Kind()].push(input{pkt: &pkt, arrival: p.Offset})
		}
	}
}

// FuzzInOrderPath feeds arbitrary packet sequences (loss, reordering,
// duplicates, restarts, padding, bad frames) to both paths: they must
// deliver the same frames, gaps and counters.
func FuzzInOrderPath(f *testing.F) {
	g := gen{}
	f.Add([]byte{0, 1, 0, 100, 0x23, 5, 1, 1, 0, 100, 0x20, 5, 1})
	f.Add([]byte{1, 1, 0, 32, 0x01, 9, 20, 3, 0, 32, 0x01, 9, 20, 1, 0, 32, 0x01, 9, 20})
	f.Add([]byte{0, 5, 0, 100, 0x23, 5, 1, 0xfb, 0, 0, 0x21, 5, 1, 0x90, 0x80, 0, 0x63, 7, 200})
	f.Add(append([]byte{0}, fuzzSeed(g.gop(6, 3))...))
	f.Add(append([]byte{0}, fuzzSeed(reversedChunks(g.gopOf(8, 4, 1), 3))...))
	f.Add(append([]byte{1}, fuzzSeed(doubled(g.gopOf(8, 4, 2)))...))
	f.Fuzz(func(t *testing.T, data []byte) {
		track, ins := fuzzPackets(data)
		tw := newTwin(t, track, func() mux.FrameDepacketizer { return fakeDepacketizer{} })
		for _, in := range ins {
			tw.push(in)
		}
		tw.check(t, "fuzz")
	})
}
