package rtpmux

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/kiroku-sfu/kiroku/mux"
)

// Payload layout understood by fakeDepacketizer: flags, then the frame
// number as two bytes.
const (
	flagStart     = 1 << 0
	flagKey       = 1 << 1
	flagReordered = 1 << 3
)

// fakeDepacketizer joins payloads and reads the frame's kind from the
// first payload byte.
type fakeDepacketizer struct{}

func (fakeDepacketizer) AppendFrame(dst []byte, payloads [][]byte) ([]byte, mux.FrameInfo, error) {
	if len(payloads) == 0 || len(payloads[0]) < 3 {
		return dst, mux.FrameInfo{}, errors.New("fake: short frame")
	}
	if payloads[0][0]&flagReordered != 0 {
		return dst, mux.FrameInfo{}, mux.ErrReordering
	}
	key := payloads[0][0]&flagKey != 0
	dst = append(dst, payloads[0]...)
	info := mux.FrameInfo{Keyframe: key}
	if key {
		info.Config = &mux.VideoConfig{Width: 64, Height: 48}
	}
	return dst, info, nil
}

func (fakeDepacketizer) IsFrameStart(p []byte) bool { return len(p) > 0 && p[0]&flagStart != 0 }

// written is one frame a fakeWriter received.
type written struct {
	kind mux.Kind
	pts  time.Duration
	key  bool
	id   int // frame number from the payload
}

// fakeWriter records frames and checks the Writer contract.
type fakeWriter struct {
	frames []written
	last   map[mux.Kind]time.Duration
	end    time.Duration
	closed bool
}

func (w *fakeWriter) WriteFrame(k mux.Kind, f mux.Frame) error {
	if w.closed {
		return errors.New("fake writer: write after close")
	}
	if last, ok := w.last[k]; ok && f.PTS < last {
		return fmt.Errorf("fake writer: %s PTS %v after %v", k, f.PTS, last)
	}
	if f.PTS < 0 || len(f.Data) < 3 || (k == mux.Video && f.Keyframe != (f.Config != nil)) {
		return fmt.Errorf("fake writer: bad frame %+v", f)
	}
	w.last[k] = f.PTS
	w.frames = append(w.frames, written{kind: k, pts: f.PTS, key: f.Keyframe, id: int(f.Data[1])<<8 | int(f.Data[2])})
	return nil
}

func (w *fakeWriter) Flush() error { return nil }

func (w *fakeWriter) Close(end time.Duration) (mux.FileStats, error) {
	if w.closed {
		return mux.FileStats{}, errors.New("fake writer: closed twice")
	}
	w.closed, w.end = true, end
	st := mux.FileStats{Duration: end}
	for _, f := range w.frames {
		if f.kind == mux.Video {
			st.VideoFrames++
		} else {
			st.AudioFrames++
		}
		if f.key {
			st.Keyframes++
		}
	}
	return st, nil
}

// of returns the frames of kind k.
func (w *fakeWriter) of(k mux.Kind) []written {
	var out []written
	for _, f := range w.frames {
		if f.kind == k {
			out = append(out, f)
		}
	}
	return out
}

// event is one packet to feed, with its arrival time.
type event struct {
	kind    mux.Kind
	pkt     *rtp.Packet
	arrival time.Duration
}

// videoEvents returns 30 fps frames from to from+n-1 of two packets each, a
// keyframe every keyEvery (none when 0); frame 0 would arrive at start.
func videoEvents(from, n, keyEvery int, start time.Duration, ssrc uint32, ts0 uint32) []event {
	var out []event
	for i := from; i < from+n; i++ {
		flags := byte(flagStart)
		if keyEvery > 0 && i%keyEvery == 0 {
			flags |= flagKey
		}
		at := start + time.Duration(i)*time.Second/30
		for p := range 2 {
			pkt := &rtp.Packet{Header: rtp.Header{SSRC: ssrc, SequenceNumber: uint16(2*i + p + 1000),
				Timestamp: ts0 + uint32(i)*3000, Marker: p == 1}, Payload: []byte{flags * byte(1-p), byte(i >> 8), byte(i)}}
			out = append(out, event{mux.Video, pkt, at + time.Duration(p)*100*time.Microsecond})
		}
	}
	return out
}

// audioEvents returns n 20 ms Opus frames, the first arriving at start.
func audioEvents(n int, start time.Duration, ssrc uint32, ts0 uint32) []event {
	var out []event
	for i := range n {
		pkt := &rtp.Packet{Header: rtp.Header{SSRC: ssrc, SequenceNumber: uint16(i + 7000),
			Timestamp: ts0 + uint32(i)*960}, Payload: []byte{flagStart, byte(i >> 8), byte(i)}}
		out = append(out, event{mux.Audio, pkt, start + time.Duration(i)*20*time.Millisecond})
	}
	return out
}

// merged returns the events of all lists in arrival order.
func merged(lists ...[]event) []event {
	var out []event
	for _, l := range lists {
		out = append(out, l...)
	}
	slices.SortStableFunc(out, func(a, b event) int { return int(a.arrival - b.arrival) })
	return out
}

var (
	vp8  = &mux.TrackInfo{Codec: mux.VP8, ClockRate: 90000}
	opus = &mux.TrackInfo{Codec: mux.Opus, ClockRate: 48000, Channels: 2}
)

// harness is a Muxer with fake writers.
type harness struct {
	m        *Muxer
	writers  []*fakeWriter
	parts    []Part
	requests int
}

func newHarness(t *testing.T, video, audio *mux.TrackInfo, edit func(*Config)) *harness {
	t.Helper()
	h := &harness{}
	cfg := Config{
		Video: video, Audio: audio,
		VideoDepacketizer: fakeDepacketizer{}, AudioDepacketizer: fakeDepacketizer{},
		NewWriter: func(v, a *mux.TrackInfo) (mux.Writer, error) {
			w := &fakeWriter{last: map[mux.Kind]time.Duration{}}
			h.writers = append(h.writers, w)
			return w, nil
		},
		RequestKeyframe: func() { h.requests++ },
		OnPartClosed:    func(p Part) { h.parts = append(h.parts, p) },
	}
	if edit != nil {
		edit(&cfg)
	}
	m, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.m = m
	return h
}

// feed writes every event, failing the test on an error.
func (h *harness) feed(t *testing.T, evs []event) {
	t.Helper()
	for _, ev := range evs {
		if err := h.m.WritePacket(ev.kind, ev.pkt, ev.arrival); err != nil {
			t.Fatalf("WritePacket: %v", err)
		}
	}
}

// close closes the muxer, failing the test on an error.
func (h *harness) close(t *testing.T) mux.Summary {
	t.Helper()
	sum, err := h.m.Close()
	if err != nil {
		t.Fatalf("Close: %v", err)
	}
	return sum
}

// checkOrder fails when frames were not written in time order across
// tracks, allowing the interleave window of disorder.
func checkOrder(t *testing.T, w *fakeWriter) {
	t.Helper()
	var latest time.Duration
	for i, f := range w.frames {
		if f.pts+DefaultInterleaveWindow < latest {
			t.Fatalf("frame %d (%s at %v) written after %v", i, f.kind, f.pts, latest)
		}
		latest = max(latest, f.pts)
	}
}

func ids(ws []written) []int {
	var out []int
	for _, w := range ws {
		out = append(out, w.id)
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
