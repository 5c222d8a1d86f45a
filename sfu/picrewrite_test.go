package sfu

import (
	"bytes"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// TestPicRewriter: payload descriptors after a layer move, against the
// last values sent. Each case starts one receiver on a first packet (sent
// unchanged), moves it to a layer whose keyframe is in, then sends next.
func TestPicRewriter(t *testing.T) {
	for _, tc := range []struct {
		name            string
		codec           picCodec
		first, in, next []byte // the first layer's packet; the new layer's keyframe and following packet
		wantIn, wantNx  []byte
	}{
		{"vp8 15-bit picture id, tl0picidx, keyidx", picVP8,
			[]byte{0x90, 0xf0, 0x81, 0x00, 0x20, 0x45, 0x00},  // pid 256, tl0 32, tid 1 keyidx 5
			[]byte{0x90, 0xf0, 0xa0, 0x10, 0x07, 0x02, 0x00},  // pid 0x2010, tl0 7, keyidx 2
			[]byte{0x90, 0xf0, 0xa0, 0x11, 0x07, 0x42, 0x01},  // pid 0x2011
			[]byte{0x90, 0xf0, 0x81, 0x01, 0x21, 0x06, 0x00},  // pid 257, tl0 33, keyidx 6
			[]byte{0x90, 0xf0, 0x81, 0x02, 0x21, 0x46, 0x01}}, // pid 258, tid bits kept
		{"vp8 15-bit picture id wraps", picVP8,
			[]byte{0x90, 0x80, 0xff, 0xfe, 0x00},
			[]byte{0x90, 0x80, 0x80, 0x05, 0x00},
			[]byte{0x90, 0x80, 0x80, 0x06, 0x01},
			[]byte{0x90, 0x80, 0xff, 0xff, 0x00},
			[]byte{0x90, 0x80, 0x80, 0x00, 0x01}},
		{"vp8 7-bit picture ids widened to 15 bits", picVP8,
			[]byte{0x90, 0x80, 0x80, 0x7f, 0x00},
			[]byte{0x90, 0x80, 0x7e, 0x00}, // 7-bit 126
			[]byte{0x90, 0x80, 0x02, 0x01}, // 7-bit 2: wrapped past 127
			[]byte{0x90, 0x80, 0x80, 0x80, 0x00},
			[]byte{0x90, 0x80, 0x80, 0x84, 0x01}},
		{"vp8 7-bit receiver gets 15-bit layer narrowed", picVP8,
			[]byte{0x90, 0x80, 0x7f, 0x00},
			[]byte{0x90, 0x80, 0x81, 0x00, 0x00},
			[]byte{0x90, 0x80, 0x81, 0x01, 0x01},
			[]byte{0x90, 0x80, 0x00, 0x00},
			[]byte{0x90, 0x80, 0x01, 0x01}},
		{"vp8 without picture id", picVP8,
			[]byte{0x10, 0x00}, []byte{0x10, 0x00}, []byte{0x00, 0x01},
			[]byte{0x10, 0x00}, []byte{0x00, 0x01}},
		{"vp8 tl0picidx only", picVP8,
			[]byte{0x90, 0x40, 0xfe, 0x00}, []byte{0x90, 0x40, 0x10, 0x00}, []byte{0x90, 0x40, 0x11, 0x01},
			[]byte{0x90, 0x40, 0xff, 0x00}, []byte{0x90, 0x40, 0x00, 0x01}},
		{"vp9 non-flexible: picture id and tl0picidx", picVP9,
			[]byte{0xac, 0x92, 0x34, 0x00, 0x05}, // I L B E, pid 0x1234, tid/sid 0, tl0 5
			[]byte{0xac, 0x80, 0x01, 0x00, 0x90},
			[]byte{0xe4, 0x80, 0x02, 0x20, 0x90}, // P, tid 1
			[]byte{0xac, 0x92, 0x35, 0x00, 0x06},
			[]byte{0xe4, 0x92, 0x36, 0x20, 0x06}},
		{"vp9 flexible: picture id only", picVP9,
			[]byte{0x98, 0x92, 0x34, 0xaa}, // I F B, pid 0x1234
			[]byte{0x98, 0x80, 0x01, 0xbb},
			[]byte{0xd8, 0x80, 0x02, 0x03}, // P, P_DIFF 1 unchanged
			[]byte{0x98, 0x92, 0x35, 0xbb},
			[]byte{0xd8, 0x92, 0x36, 0x03}},
		{"vp9 flexible with layer indices", picVP9,
			[]byte{0xb8, 0x92, 0x34, 0x00, 0xaa},
			[]byte{0xb8, 0x80, 0x01, 0x00, 0xbb},
			[]byte{0xf8, 0x80, 0x02, 0x20, 0x03},
			[]byte{0xb8, 0x92, 0x35, 0x00, 0xbb},
			[]byte{0xf8, 0x92, 0x36, 0x20, 0x03}},
		{"h264 untouched", picNone,
			[]byte{0x65, 0x01}, []byte{0x65, 0x02}, []byte{0x41, 0x03},
			[]byte{0x65, 0x02}, []byte{0x41, 0x03}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := picRewriter{codec: tc.codec}
			var buf []byte
			if got := r.rewrite(tc.first, &buf, true); &got[0] != &tc.first[0] {
				t.Fatalf("first packet rewritten to % x", got)
			}
			r.start(tc.in)
			in := append([]byte(nil), tc.in...)
			if got := r.rewrite(tc.in, &buf, true); !bytes.Equal(got, tc.wantIn) {
				t.Fatalf("keyframe sent as % x, want % x", got, tc.wantIn)
			}
			if got := r.rewrite(tc.next, &buf, true); !bytes.Equal(got, tc.wantNx) {
				t.Fatalf("next sent as % x, want % x", got, tc.wantNx)
			}
			if !bytes.Equal(in, tc.in) {
				t.Fatal("the shared payload was modified")
			}
			if again := r.rewrite(tc.in, nil, false); !bytes.Equal(again, tc.wantIn) {
				t.Fatalf("retransmitted keyframe % x, want % x as first sent", again, tc.wantIn)
			}
			if r.malformed != 0 {
				t.Fatalf("%d descriptors counted malformed", r.malformed)
			}
		})
	}
}

// TestPicRewriterMalformed: a descriptor that ends early goes out as it
// is, and is counted.
func TestPicRewriterMalformed(t *testing.T) {
	for _, p := range [][]byte{{0x90}, {0x90, 0x80}, {0x90, 0x80, 0x80}, {0x90, 0x40}, {0x80, 0x10}} {
		r := picRewriter{codec: picVP8, picOff: 5, tl0Off: 1, keyOff: 1, width: 2}
		if got := r.rewrite(p, nil, true); &got[0] != &p[0] || r.malformed != 1 {
			t.Fatalf("% x: sent % x, %d counted; want it unchanged and counted", p, got, r.malformed)
		}
	}
	for _, p := range [][]byte{{0x80}, {0x80, 0x80}, {0xa0}, {0xa0, 0x00}} {
		r := picRewriter{codec: picVP9}
		if got := r.rewrite(p, nil, true); &got[0] != &p[0] || r.malformed != 1 {
			t.Fatalf("vp9 % x: sent % x, %d counted", p, got, r.malformed)
		}
	}
}

// FuzzPicRewriter feeds hostile payloads to a receiver moved between two
// layers: no panic, the shared payload never modified, and what is sent
// has the same length or one byte more or less (a picture ID widened or
// narrowed).
func FuzzPicRewriter(f *testing.F) {
	f.Add([]byte{0x90, 0xf0, 0x81, 0x00, 0x20, 0x45, 0x00}, []byte{0x90, 0x80, 0x7e, 0x00}, true)
	f.Add([]byte{0xac, 0x92, 0x34, 0x00, 0x05}, []byte{0x98, 0x80, 0x01, 0xbb}, false)
	f.Add([]byte{0x90}, []byte{0xa0}, true)
	f.Fuzz(func(t *testing.T, a, b []byte, vp8 bool) {
		codec := picVP9
		if vp8 {
			codec = picVP8
		}
		r := picRewriter{codec: codec}
		var buf []byte
		for _, p := range [][]byte{a, b, a} {
			keep := append([]byte(nil), p...)
			r.start(p)
			got := r.rewrite(p, &buf, true)
			if d := len(got) - len(p); d < -1 || d > 1 {
				t.Fatalf("% x sent as % x", p, got)
			}
			if !bytes.Equal(keep, p) {
				t.Fatal("payload modified")
			}
		}
	})
}

// TestLayerMovesContinuousPictureIDs: a viewer moved r0 → r2 → r0 gets
// picture IDs and TL0PICIDX going on by one at each move and by one per
// picture in between, while each layer numbers its own way.
func TestLayerMovesContinuousPictureIDs(t *testing.T) {
	at := time.Unix(1000, 0)
	s := newLayerSelector("video/VP8", 90000, 0)
	pid := [simulcastLayers]uint16{100, 9000, 30000}
	seq := [simulcastLayers]uint16{10, 5000, 60000}
	frame := 0
	var lastPid uint16
	var lastTL0 byte
	sent := 0
	send := func(layer int, key bool) {
		for l := range simulcastLayers {
			pid[l]++
			seq[l]++
			p := vp8Packet(seq[l], uint32(frame*3000+l*777777), key && l == layer, pid[l], byte(pid[l]/2+uint16(l)*50))
			at = at.Add(time.Millisecond)
			s.next(l, p, at)
			for _, o := range s.out {
				d, err := parseDescriptor(picVP8, o.payload)
				if err != nil || d.picLen != 2 {
					t.Fatalf("sent % x", o.payload)
				}
				got, tl0 := d.picture(o.payload), o.payload[d.tl0At]
				if sent > 0 && (got != (lastPid+1)&0x7fff || tl0-lastTL0 > 1) {
					t.Fatalf("frame %d (layer %d): picture id %d tl0 %d after %d %d", frame, l, got, tl0, lastPid, lastTL0)
				}
				lastPid, lastTL0 = got, tl0
				sent++
			}
		}
		frame++
		at = at.Add(30 * time.Millisecond)
	}
	send(0, true)
	for range 5 {
		send(0, false)
	}
	for _, target := range []int{2, 0, 2, 0} {
		s.setTarget(target)
		send(target, false) // no keyframe yet: stays
		send(target, true)
		if s.Current() != target {
			t.Fatalf("at layer %d, want %d", s.Current(), target)
		}
		for range 5 {
			send(target, false)
		}
	}
	// A move up sends the old layer's picture and the new one's keyframe
	// in the frame of the move (r0 is read first); a move down only the
	// new one's.
	if want := 6 + 2*8 + 2*7; sent != want {
		t.Fatalf("%d packets sent, want %d", sent, want)
	}
}

// BenchmarkLayerSelectorRewrite measures a viewer's selector on a moved
// layer, where every payload is rewritten: no allocation per packet.
func BenchmarkLayerSelectorRewrite(b *testing.B) {
	s := newLayerSelector("video/VP8", 90000, 0)
	at := time.Unix(1000, 0)
	s.next(0, vp8Packet(1, 1, true, 5, 5), at)
	s.setTarget(1)
	s.next(1, vp8Packet(900, 7000, true, 4000, 9), at)
	payload := make([]byte, 1100)
	copy(payload, []byte{0x90, 0xc0, 0x80, 0x00, 0x00, 0x01})
	p := &rtp.Packet{Header: rtp.Header{Version: 2, Marker: true}, Payload: payload}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		p.SequenceNumber, p.Timestamp = uint16(901+i), uint32(7000+3000*i)
		payload[2], payload[3] = 0x80|byte(i>>8)&0x7f, byte(i)
		s.next(1, p, at)
		if len(s.out) != 1 || &s.out[0].payload[0] == &payload[0] {
			b.Fatalf("not rewritten: %d out, current %d", len(s.out), s.Current())
		}
	}
}

// TestRetransmissionRewritten: a viewer's NACK after a layer move is
// answered from the layer's history with the sequence number, timestamp
// and picture numbers the packet was first sent with, the history's
// payload untouched.
func TestRetransmissionRewritten(t *testing.T) {
	src := &simulcastSource{info: TrackInfo{MimeType: "video/VP8", ClockRate: 90000}}
	for l := range simulcastLayers {
		src.layers[l] = &publishedTrack{layer: l, history: &trackHistory{}}
	}
	vt := newLayeredTrack(src, nil, 0)
	at := time.Unix(1000, 0)
	send := func(layer int, p *rtp.Packet) []selected {
		src.layers[layer].history.record(&p.Header, p.Payload)
		at = at.Add(10 * time.Millisecond)
		vt.sel.next(layer, p, at)
		var out []selected
		for _, o := range vt.sel.out { // the selector's buffers are reused
			out = append(out, selected{h: o.h, payload: append([]byte(nil), o.payload...)})
		}
		return out
	}
	send(0, vp8Packet(10, 1000, true, 50, 3))
	send(0, vp8Packet(11, 4000, false, 51, 3))
	vt.sel.setTarget(2)
	key := vp8Packet(7000, 90000, true, 20000, 77)
	first := send(2, key)
	next := send(2, vp8Packet(7001, 93000, false, 20001, 77))
	for _, o := range append(first, next...) {
		p, ok := vt.lookup(o.h.SequenceNumber)
		if !ok || p.seq != o.h.SequenceNumber || p.ts != o.h.Timestamp || !bytes.Equal(p.payload, o.payload) {
			t.Fatalf("NACK of %d answered %+v %v, want %+v", o.h.SequenceNumber, p, ok, o)
		}
	}
	if d, _ := parseDescriptor(picVP8, key.Payload); d.picture(key.Payload) != 20000 {
		t.Fatal("the history's payload was modified")
	}
	if _, ok := vt.lookup(first[0].h.SequenceNumber - 1); ok {
		t.Fatal("a packet of the layer before the move was answered from the new layer")
	}
}

// FuzzLayerSelector drives a receiver's selector with hostile packet
// sequences (any layer, order, timing, marker and payload): no panic,
// and no shared payload modified.
func FuzzLayerSelector(f *testing.F) {
	f.Add([]byte{0, 1, 0x13, 10, 2, 1, 0x13, 10, 2, 2, 0x03, 200, 1, 5, 0x11, 3}, []byte{0x90, 0xe0, 0x81, 0x00, 0x20, 0x45, 0x00}, true)
	f.Add([]byte{2, 0, 0x10, 0, 0, 0, 0x10, 255}, []byte{0xac, 0x92}, false)
	f.Fuzz(func(t *testing.T, ops, payload []byte, vp8 bool) {
		mime := "video/VP9"
		if vp8 {
			mime = "video/VP8"
		}
		s := newLayerSelector(mime, 90000, 2)
		var clocks layerClocks
		s.clocks = &clocks
		keep := append([]byte(nil), payload...)
		at := time.Unix(1000, 0)
		var seq [simulcastLayers + 1]uint16
		for i := 0; i+3 < len(ops); i += 4 {
			layer, flags := int(ops[i]%4), ops[i+2]
			seq[layer] += uint16(int8(ops[i+1]))
			at = at.Add(time.Duration(ops[i+3]) * 5 * time.Millisecond)
			if flags&0x40 != 0 {
				clocks.set(layer, ntpTime(at), uint32(seq[layer])*3000)
			}
			if flags&0x20 != 0 {
				s.setTarget(int(flags) % simulcastLayers)
			}
			p := &rtp.Packet{Header: rtp.Header{SequenceNumber: seq[layer], Timestamp: uint32(seq[layer]) * 3000,
				Marker: flags&0x01 != 0}, Payload: payload}
			s.next(layer, p, at)
			if _, ok := s.original(seq[layer]); ok && s.Current() == noLayer {
				t.Fatal("a sequence number maps back with no layer")
			}
		}
		if !bytes.Equal(keep, payload) {
			t.Fatal("the shared payload was modified")
		}
	})
}

// nopWriter is a viewer's transport that sends nothing.
type nopWriter struct{}

func (nopWriter) WriteRTP(*rtp.Header, []byte) (int, error) { return 0, nil }
func (nopWriter) Write([]byte) (int, error)                 { return 0, nil }

// BenchmarkLayeredTrackWrite measures a viewer's simulcast track after a
// move (every payload renumbered): no allocation per packet.
func BenchmarkLayeredTrackWrite(b *testing.B) {
	src := &simulcastSource{info: TrackInfo{MimeType: "video/VP8", ClockRate: 90000}}
	vt := newLayeredTrack(src, &Connection{peer: newFakePeer()}, 0)
	vt.binding = &layerBinding{ssrc: 1, pt: 96, writer: nopWriter{}}
	at := time.Unix(1000, 0)
	vt.write(0, vp8Packet(1, 1, true, 5, 5), at)
	vt.sel.setTarget(1)
	vt.write(1, vp8Packet(900, 7000, true, 4000, 9), at)
	payload := make([]byte, 1100)
	copy(payload, []byte{0x90, 0xc0, 0x80, 0x00, 0x00, 0x01})
	p := &rtp.Packet{Header: rtp.Header{Version: 2, Marker: true}, Payload: payload}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		p.SequenceNumber, p.Timestamp = uint16(901+i), uint32(7000+3000*i)
		if !vt.write(1, p, at) {
			b.Fatal("not sent")
		}
	}
}
