package depack

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/kiroku-sfu/kiroku/mux"
)

// Payload flags understood by fakeDepacketizer (first payload byte).
const (
	flagStart     = 1 << 0 // first packet of a frame
	flagKey       = 1 << 1 // the frame is a keyframe
	flagBad       = 1 << 2 // the frame cannot be parsed
	flagReordered = 1 << 3 // the frame reveals B-frames
	flagEmpty     = 1 << 4 // the frame decodes to nothing
	flagRASL      = 1 << 5 // the frame refers to pictures before the last keyframe
	flagNoParams  = 1 << 6 // a keyframe whose parameter sets are unknown
	flagUnsupp    = 1 << 7 // the frame uses a feature that cannot be written
)

// fakeDepacketizer joins payloads as they are and reads the frame's kind
// from the first payload byte.
type fakeDepacketizer struct{}

func (fakeDepacketizer) AppendFrame(dst []byte, payloads [][]byte) ([]byte, mux.FrameInfo, error) {
	if len(payloads) == 0 || len(payloads[0]) == 0 {
		return dst, mux.FrameInfo{}, errors.New("fake: empty frame")
	}
	flags := payloads[0][0]
	switch {
	case flags&flagReordered != 0:
		return dst, mux.FrameInfo{}, mux.ErrReordering
	case flags&flagBad != 0:
		return dst, mux.FrameInfo{}, errors.New("fake: bad frame")
	case flags&flagEmpty != 0:
		return dst, mux.FrameInfo{}, nil
	case flags&flagNoParams != 0:
		return dst, mux.FrameInfo{}, fmt.Errorf("fake: %w", mux.ErrMissingParameterSets)
	case flags&flagUnsupp != 0:
		return dst, mux.FrameInfo{}, fmt.Errorf("fake: %w", mux.ErrUnsupported)
	}
	for _, p := range payloads {
		dst = append(dst, p...)
	}
	info := mux.FrameInfo{Keyframe: flags&flagKey != 0, SkipAtRandomAccess: flags&flagRASL != 0}
	if info.Keyframe {
		info.Config = &mux.VideoConfig{Width: 64, Height: 48}
	}
	return dst, info, nil
}

func (fakeDepacketizer) IsFrameStart(p []byte) bool { return len(p) > 0 && p[0]&flagStart != 0 }

// input is one packet and its arrival time; a nil packet stands for the
// caller dropping packets (NoteDropped).
type input struct {
	pkt     *rtp.Packet
	arrival time.Duration
}

// gen writes synthetic RTP streams: 30 fps video or 20 ms audio.
type gen struct {
	ssrc    uint32
	seq     uint16
	ts      uint32
	arrival time.Duration
	frame   byte
}

func (g *gen) packet(payload []byte, marker bool) input {
	in := input{pkt: &rtp.Packet{Header: rtp.Header{Version: 2, SSRC: g.ssrc, SequenceNumber: g.seq,
		Timestamp: g.ts, Marker: marker}, Payload: payload}, arrival: g.arrival}
	g.seq++
	g.arrival += time.Millisecond
	return in
}

// video returns one frame of n packets; flags go into the first payload.
func (g *gen) video(n int, flags byte) []input {
	var out []input
	for i := range n {
		f := byte(0)
		if i == 0 {
			f = flagStart | flags
		}
		out = append(out, g.packet([]byte{f, g.frame, byte(i)}, i == n-1))
	}
	g.frame++
	g.ts += 3000
	g.arrival += 30 * time.Millisecond
	return out
}

// audio returns one 20 ms audio packet.
func (g *gen) audio(flags byte) input {
	in := g.packet([]byte{flags, g.frame}, false)
	g.frame++
	g.ts += 960
	g.arrival += 19 * time.Millisecond
	return in
}

// gop returns frames frames of 3 packets, a keyframe every keyEvery.
func (g *gen) gop(frames, keyEvery int) []input { return g.gopOf(frames, keyEvery, 3) }

// gopOf returns frames frames of pkts packets, a keyframe every keyEvery.
func (g *gen) gopOf(frames, keyEvery, pkts int) []input {
	var out []input
	for i := range frames {
		var f byte
		if i%keyEvery == 0 {
			f = flagKey
		}
		out = append(out, g.video(pkts, f)...)
	}
	return out
}

// padding returns a padding-only packet with the current timestamp.
func (g *gen) padding() input {
	in := g.packet(nil, false)
	in.pkt.Padding = true
	return in
}

// collector records what an Assembler delivers.
type collector struct {
	frames   []Frame
	gaps     []Gap
	requests int
}

func (c *collector) config(track mux.TrackInfo) Config {
	return Config{
		Track:           track,
		Depacketizer:    fakeDepacketizer{},
		OnFrame:         func(f Frame) { f.Data = append([]byte(nil), f.Data...); c.frames = append(c.frames, f) },
		OnGap:           func(g Gap) { c.gaps = append(c.gaps, g) },
		RequestKeyframe: func() { c.requests++ },
	}
}

var (
	videoTrack = mux.TrackInfo{Codec: mux.VP8, ClockRate: 90000}
	audioTrack = mux.TrackInfo{Codec: mux.Opus, ClockRate: 48000, Channels: 2}
)

// run pushes ins through a new Assembler, flushes it and returns what came out.
func run(t *testing.T, track mux.TrackInfo, ins []input) (*collector, *Assembler, error) {
	t.Helper()
	c := &collector{}
	a, err := New(c.config(track))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	for _, in := range ins {
		if in.pkt == nil {
			a.NoteDropped()
			continue
		}
		if err := a.Push(in.pkt, in.arrival); err != nil {
			return c, a, err
		}
	}
	return c, a, a.Flush()
}

// frameNumbers returns the synthetic frame number of each frame (second byte).
func frameNumbers(frames []Frame) []int {
	var out []int
	for _, f := range frames {
		if len(f.Data) > 1 {
			out = append(out, int(f.Data[1]))
		}
	}
	return out
}

func seqOf(from, to int) []int {
	var out []int
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

func concat(parts ...[]input) []input {
	var out []input
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}
