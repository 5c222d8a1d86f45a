package depack

import (
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/kiroku-sfu/kiroku/mux"
)

// fuzzPackets turns fuzz input into packets: byte 0 picks the track, then
// every 6 bytes are a sequence step, a timestamp step, flags, a payload
// length and an arrival step.
func fuzzPackets(data []byte) (mux.TrackInfo, []input) {
	track := videoTrack
	if len(data) > 0 && data[0]&1 == 1 {
		track = audioTrack
	}
	var ins []input
	var seq uint16
	var ts uint32
	var arrival time.Duration
	ssrc := uint32(1)
	for i := 1; i+6 <= len(data); i += 6 {
		b := data[i : i+6]
		seq += uint16(int16(int8(b[0])))
		if b[2]&0x80 != 0 { // far jump: exercises the restart rule
			seq += uint16(b[0]) << 8
		}
		ts += uint32(int32(int16(binary.BigEndian.Uint16(b[1:3])))) * 30
		if b[3]&0x40 != 0 {
			ssrc++
		}
		payload := make([]byte, int(b[4])%40)
		if len(payload) > 0 {
			payload[0] = b[3] & (flagStart | flagKey | flagBad | flagReordered)
		}
		arrival += time.Duration(b[5]) * time.Millisecond
		ins = append(ins, input{pkt: &rtp.Packet{Header: rtp.Header{SSRC: ssrc, SequenceNumber: seq,
			Timestamp: ts, Marker: b[3]&0x20 != 0, Padding: len(payload) == 0}, Payload: payload}, arrival: arrival})
	}
	return track, ins
}

// FuzzAssembler feeds arbitrary packet sequences: no panic, bounded
// buffers, consistent counters, and no video frame after a loss or a
// restart unless it is a keyframe.
func FuzzAssembler(f *testing.F) {
	g := gen{}
	f.Add([]byte{0, 1, 0, 100, 0x23, 5, 1, 1, 0, 100, 0x20, 5, 1})
	f.Add([]byte{1, 1, 0, 32, 0x01, 9, 20, 3, 0, 32, 0x01, 9, 20, 1, 0, 32, 0x01, 9, 20})
	f.Add([]byte{0, 5, 0, 100, 0x23, 5, 1, 0xfb, 0, 0, 0x21, 5, 1, 0x90, 0x80, 0, 0x63, 7, 200})
	f.Add(append([]byte{0}, fuzzSeed(g.gop(6, 3))...))
	f.Fuzz(func(t *testing.T, data []byte) {
		track, ins := fuzzPackets(data)
		c := &collector{}
		cfg := c.config(track)
		var a *Assembler
		var lost, restarts int
		onFrame := cfg.OnFrame
		first := true
		cfg.OnFrame = func(fr Frame) {
			s := a.Stats()
			if track.Kind() == mux.Video && (first || s.PacketsLost > lost || s.Restarts > restarts) && !fr.Keyframe {
				t.Fatalf("delta frame at %d emitted after a loss or restart", fr.Timestamp)
			}
			first, lost, restarts = false, s.PacketsLost, s.Restarts
			onFrame(fr)
		}
		a, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range ins {
			if err := a.Push(in.pkt, in.arrival); err != nil {
				if !errors.Is(err, mux.ErrReordering) {
					t.Fatalf("Push: %v", err)
				}
				break
			}
			if cap(a.frame.data) > 2*maxFrameBytes || len(a.ring.slots) != ringSize(DefaultReorderWindow) {
				t.Fatalf("buffers grew: frame %d, ring %d", cap(a.frame.data), len(a.ring.slots))
			}
		}
		if err := a.Flush(); err != nil && !errors.Is(err, mux.ErrReordering) {
			t.Fatalf("Flush: %v", err)
		}
		s := a.Stats()
		if s.FramesEmitted != len(c.frames) || s.PacketsReceived > len(ins) {
			t.Fatalf("stats %+v for %d packets, %d frames", s, len(ins), len(c.frames))
		}
	})
}

// fuzzSeed encodes a synthetic stream in fuzzPackets' format.
func fuzzSeed(ins []input) []byte {
	var out []byte
	var prevTS uint32
	for _, in := range ins {
		p := in.pkt
		flags := byte(0)
		if len(p.Payload) > 0 {
			flags = p.Payload[0]
		}
		if p.Marker {
			flags |= 0x20
		}
		step := uint16((p.Timestamp - prevTS) / 30)
		prevTS = p.Timestamp
		out = append(out, 1, byte(step>>8), byte(step), flags, 3, 2)
	}
	return out
}
