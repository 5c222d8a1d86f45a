package sfu

import (
	"testing"
	"time"

	"github.com/pion/rtp"
)

// vp8Packet is a one-packet VP8 frame (marker set) with a 15-bit picture
// ID and TL0PICIDX.
func vp8Packet(seq uint16, ts uint32, key bool, pid uint16, tl0 byte) *rtp.Packet {
	frame := byte(0x01)
	if key {
		frame = 0x00
	}
	return &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: ts, Marker: true},
		Payload: []byte{0x90, 0xc0, 0x80 | byte(pid>>8), byte(pid), tl0, frame}}
}

// sentVP8 is what a receiver got of a VP8 packet.
type sentVP8 struct {
	seq      uint16
	ts       uint32
	pid      uint16
	tl0      byte
	sameData bool // the payload is the publisher's own slice
}

func readSent(t *testing.T, o selected, in *rtp.Packet) sentVP8 {
	t.Helper()
	d, err := parseDescriptor(picVP8, o.payload)
	if err != nil || d.picLen == 0 || d.tl0At < 0 {
		t.Fatalf("sent payload % x has no picture ID and TL0PICIDX: %v", o.payload, err)
	}
	return sentVP8{seq: o.h.SequenceNumber, ts: o.h.Timestamp, pid: d.picture(o.payload), tl0: o.payload[d.tl0At],
		sameData: &o.payload[0] == &in.Payload[0]}
}

// TestLayerSelector walks a receiver through layers: it starts at the
// first keyframe of any layer while its target is silent, moves to the
// target at its keyframe with sequence numbers, timestamps and picture
// numbers running on, ignores other layers and old packets of the new
// one, maps NACKed sequence numbers back, and falls back to a flowing
// layer when its own stops.
func TestLayerSelector(t *testing.T) {
	at := time.Unix(1000, 0)
	s := newLayerSelector("video/VP8", 90000, 0)
	step := func(d time.Duration) time.Time { at = at.Add(d); return at }
	type want struct {
		send    bool
		out     sentVP8
		ask     int
		current int
	}
	check := func(name string, layer int, p *rtp.Packet, w want) {
		t.Helper()
		ask := s.next(layer, p, step(10*time.Millisecond))
		if (len(s.out) == 1) != w.send || len(s.out) > 1 || ask != w.ask || s.Current() != w.current {
			t.Fatalf("%s: sent %d ask %d current %d, want %v %d %d", name, len(s.out), ask, s.Current(), w.send, w.ask, w.current)
		}
		if !w.send {
			return
		}
		if got := readSent(t, s.out[0], p); got != w.out || s.out[0].h.Marker != p.Marker {
			t.Fatalf("%s: sent %+v, want %+v", name, got, w.out)
		}
	}
	check("layer 1 delta: waits for the target", 1, vp8Packet(500, 9000, false, 100, 10), want{ask: noLayer, current: noLayer})
	step(layerStale)
	check("layer 1 delta: the target stayed silent, ask layer 1", 1, vp8Packet(500, 9000, false, 100, 10), want{ask: 1, current: noLayer})
	check("layer 1 keyframe: start there, unchanged", 1, vp8Packet(501, 9000, true, 101, 11),
		want{send: true, out: sentVP8{501, 9000, 101, 11, true}, ask: noLayer, current: 1})
	check("layer 1 delta", 1, vp8Packet(502, 12000, false, 102, 11),
		want{send: true, out: sentVP8{502, 12000, 102, 11, true}, ask: noLayer, current: 1})
	check("layer 2: not wanted", 2, vp8Packet(9, 5, true, 7, 7), want{ask: noLayer, current: 1})
	check("layer 0 delta: the switch to the target waits for a keyframe", 0, vp8Packet(7001, 73000, false, 3001, 200), want{ask: 0, current: 1})
	check("layer 0 delta: asked already", 0, vp8Packet(7002, 73000, false, 3001, 200), want{ask: noLayer, current: 1})
	// 40 ms since the last packet sent: 3600 ticks at 90 kHz.
	check("layer 0 keyframe: switch, numbers run on", 0, vp8Packet(7003, 76000, true, 3002, 201),
		want{send: true, out: sentVP8{503, 15600, 103, 12, false}, ask: noLayer, current: 0})
	check("layer 0 next", 0, vp8Packet(7004, 79000, false, 3003, 201),
		want{send: true, out: sentVP8{504, 18600, 104, 12, false}, ask: noLayer, current: 0})
	check("layer 1 after the switch: dropped", 1, vp8Packet(503, 15000, false, 103, 11), want{ask: noLayer, current: 0})
	check("layer 0 from before the switch (a probe repeat): dropped", 0, vp8Packet(7001, 73000, false, 3001, 200), want{ask: noLayer, current: 0})
	check("layer 0 late repeat after the switch: sent again as before", 0, vp8Packet(7003, 76000, true, 3002, 201),
		want{send: true, out: sentVP8{503, 15600, 103, 12, false}, ask: noLayer, current: 0})
	if orig, ok := s.original(504); !ok || orig != 7004 {
		t.Fatalf("original(504) = %d, %v; want 7004", orig, ok)
	}
	if _, ok := s.original(502); ok {
		t.Fatal("original(502) maps a packet of the layer before the switch")
	}
	// Layer 0 stops; after layerStale, layer 1 (still flowing) takes over
	// at its next keyframe.
	step(layerStale)
	check("layer 1 delta: layer 0 is stale", 1, vp8Packet(504, 18000, false, 104, 11), want{ask: 1, current: 0})
	// 550 ms since the newest packet sent (504; the late repeat does not
	// count): 49500 ticks, and the numbers go on from 504.
	check("layer 1 keyframe: fall back", 1, vp8Packet(505, 21000, true, 105, 12),
		want{send: true, out: sentVP8{505, 68100, 105, 13, false}, ask: noLayer, current: 1})
	s.setTarget(1)
	check("target reached", 1, vp8Packet(506, 24000, false, 106, 12),
		want{send: true, out: sentVP8{506, 71100, 106, 13, false}, ask: noLayer, current: 1})
	if s.changes != 2 {
		t.Fatalf("%d layer changes counted, want 2", s.changes)
	}
	if s.next(5, vp8Packet(1, 1, true, 1, 1), at); len(s.out) != 0 {
		t.Fatal("a layer out of range was sent")
	}

	// While the target flows, the start waits for its keyframe.
	s = newLayerSelector("video/VP8", 90000, 2)
	check("target delta: ask the target", 2, vp8Packet(10, 10, false, 1, 1), want{ask: 2, current: noLayer})
	check("other keyframe: the target flows, not taken", 0, vp8Packet(20, 20, true, 1, 1), want{ask: noLayer, current: noLayer})
	check("target keyframe: start", 2, vp8Packet(11, 11, true, 2, 1),
		want{send: true, out: sentVP8{11, 11, 2, 1, true}, ask: noLayer, current: 2})
}

// framePacket is packet i of n of a VP8 frame (marker on the last).
func framePacket(seq uint16, ts uint32, key bool, pid uint16, i, n int) *rtp.Packet {
	p := vp8Packet(seq, ts, key, pid, 0)
	p.Marker = i == n-1
	if i > 0 {
		p.Payload[0] &^= 0x10 // not the frame's start
	}
	return p
}

// TestLayerSelectorFinishesFrame: a move that finds the current layer in
// the middle of a frame waits for that frame's last packet, holding the
// new layer's keyframe; then both go out, the sequence numbers
// contiguous. A frame whose end never comes is cut with a hole of one
// sequence number, so that a depacketizer drops it.
func TestLayerSelectorFinishesFrame(t *testing.T) {
	at := time.Unix(1000, 0)
	tick := func() time.Time { at = at.Add(time.Millisecond); return at }
	s := newLayerSelector("video/VP8", 90000, 0)
	send := func(layer int, p *rtp.Packet) []uint16 {
		s.next(layer, p, tick())
		var seqs []uint16
		for _, o := range s.out {
			seqs = append(seqs, o.h.SequenceNumber)
		}
		return seqs
	}
	same := func(name string, got []uint16, want ...uint16) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s: sent %v, want %v", name, got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%s: sent %v, want %v", name, got, want)
			}
		}
	}
	s.setTarget(1)
	same("layer 1 keyframe starts", send(1, framePacket(100, 1000, true, 1, 0, 1)), 100)
	same("layer 1 frame, first packet", send(1, framePacket(101, 4000, false, 2, 0, 3)), 101)
	s.setTarget(0)
	same("layer 0 keyframe: held", send(0, framePacket(900, 50000, true, 70, 0, 2)))
	same("layer 1 frame, second packet", send(1, framePacket(102, 4000, false, 2, 1, 3)), 102)
	same("layer 0 keyframe, second packet: held", send(0, framePacket(901, 50000, true, 70, 1, 2)))
	same("layer 1 frame ends: the move", send(1, framePacket(103, 4000, false, 2, 2, 3)), 103, 104, 105)
	if s.Current() != 0 || s.changes != 1 {
		t.Fatalf("current %d after %d changes, want layer 0 after 1", s.Current(), s.changes)
	}
	same("layer 1 goes on: dropped", send(1, framePacket(104, 7000, false, 3, 0, 1)))
	same("layer 0 goes on", send(0, framePacket(902, 53000, false, 71, 0, 1)), 106)

	// The current frame's end is lost: the current layer's next frame
	// makes the move, after a hole.
	s.setTarget(1)
	same("layer 0 frame, first packet", send(0, framePacket(903, 56000, false, 72, 0, 2)), 107)
	same("layer 1 keyframe: held", send(1, framePacket(110, 10000, true, 9, 0, 1)))
	same("layer 0 next frame: the move, after a hole", send(0, framePacket(905, 59000, false, 73, 0, 1)), 109)

	// The current frame's end does not come within pendingWait.
	s.setTarget(0)
	same("layer 1 frame, first packet", send(1, framePacket(111, 13000, false, 10, 0, 2)), 110)
	same("layer 0 keyframe: held", send(0, framePacket(906, 62000, true, 74, 0, 2)))
	at = at.Add(pendingWait)
	same("layer 0 after the wait: the move, after a hole", send(0, framePacket(907, 62000, true, 74, 1, 2)), 112, 113)
}

// TestLayerSelectorSenderReports: with both layers' sender reports, the
// new layer's timestamps land where the old layer's would have been for
// the same wall time, so sender reports passed on keep one mapping; a
// keyframe of a moment already sent follows it by minStep.
func TestLayerSelectorSenderReports(t *testing.T) {
	const ntp0 = uint64(3_900_000_000) << 32
	var clocks layerClocks
	clocks.set(0, ntp0, 1000)         // layer 0: RTP 1000 at wall 0
	clocks.set(1, ntp0+1<<31, 500000) // layer 1: RTP 500000 at wall 0.5 s
	for _, tc := range []struct {
		name   string
		ts     uint32 // of the layer 1 keyframe
		wantTS uint32
	}{
		// wall 0.6 s: layer 0's 1000 + 54000; the last sent is 1000 + 45000
		{"by the reports", 500000 + 9000, 55000},
		// wall 0.5 s: before the last frame sent (0.5 s: 46000)
		{"a moment already sent", 500000, 46000 + 90},
		// wall 30 s: too far past the 40 ms since the last packet
		{"reports disagree with arrival", 500000 + 90000*30, 46000 + 3600},
	} {
		t.Run(tc.name, func(t *testing.T) {
			at := time.Unix(1000, 0)
			s := newLayerSelector("video/H264", 90000, 0)
			s.clocks = &clocks
			s.next(0, &rtp.Packet{Header: rtp.Header{SequenceNumber: 1, Timestamp: 1000 + 45000, Marker: true}, Payload: []byte{0x65}}, at)
			s.setTarget(1)
			s.next(1, &rtp.Packet{Header: rtp.Header{SequenceNumber: 70, Timestamp: tc.ts, Marker: true}, Payload: []byte{0x65}}, at.Add(40*time.Millisecond))
			if len(s.out) != 1 || s.out[0].h.Timestamp != tc.wantTS || s.out[0].h.SequenceNumber != 2 {
				t.Fatalf("sent %+v, want timestamp %d, sequence number 2", s.out, tc.wantTS)
			}
		})
	}
}

// TestLayerSelectorLongRun: a layer followed for more than half the
// sequence number cycle keeps being sent and its NACKs answered.
func TestLayerSelectorLongRun(t *testing.T) {
	at := time.Unix(1000, 0)
	s := newLayerSelector("video/VP8", 90000, 0)
	s.next(0, vp8Packet(1, 1, true, 1, 1), at)
	s.setTarget(1)
	for i := range 70000 {
		seq := uint16(500 + i)
		s.next(1, vp8Packet(seq, uint32(i*3000), i == 0, uint16(i), 1), at)
		if len(s.out) != 1 {
			t.Fatalf("packet %d of layer 1 not sent", i)
		}
		if orig, ok := s.original(s.out[0].h.SequenceNumber); !ok || orig != seq {
			t.Fatalf("packet %d: original %d, %v; want %d", i, orig, ok, seq)
		}
	}
}

// TestLayerSelectorStandIn: while the target stops, the receiver takes
// the highest layer still flowing below it, else the lowest above it.
func TestLayerSelectorStandIn(t *testing.T) {
	at := time.Unix(1000, 0)
	for _, tc := range []struct {
		name    string
		target  int
		flowing []int
		want    int
	}{
		{"r2 stops: r1, not r0", 2, []int{0, 1}, 1},
		{"r2 and r1 stop: r0", 2, []int{0}, 0},
		{"r0 stops: r1, not r2", 0, []int{2, 1}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newLayerSelector("video/VP8", 90000, tc.target)
			s.next(tc.target, vp8Packet(1, 1, true, 1, 1), at)
			now := at.Add(layerStale + time.Millisecond)
			for i, l := range tc.flowing { // they flow
				s.next(l, vp8Packet(uint16(100*(l+1)+i), 6000, false, 4, 4), now.Add(-10*time.Millisecond))
			}
			for i, l := range tc.flowing { // every layer's keyframe, the wanted one last
				s.next(l, vp8Packet(uint16(100*(l+1)+i+10), 9000, true, 5, 5), now)
			}
			if s.Current() != tc.want {
				t.Fatalf("at layer %d, want %d", s.Current(), tc.want)
			}
		})
	}
}
