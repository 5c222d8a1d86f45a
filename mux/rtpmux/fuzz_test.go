package rtpmux

import (
	"errors"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/kiroku-sfu/kiroku/mux"
)

// FuzzMuxer feeds arbitrary audio and video packets, sender reports and
// splits: nothing panics, and every writer sees each track's frames with
// PTS that start at 0 or later and never go back (fakeWriter rejects
// anything else, which fails WritePacket).
func FuzzMuxer(f *testing.F) {
	f.Add([]byte{0, 1, 3, 3, 10, 1, 1, 0, 1, 20, 0, 1, 3, 2, 30})
	f.Add([]byte{0x80, 1, 0, 0, 0, 0x40, 1, 3, 3, 5, 1, 200, 9, 1, 1, 0x20, 1, 3, 3, 250})
	f.Fuzz(func(t *testing.T, data []byte) {
		h := newHarness(t, vp8, opus, nil)
		var seq [2]uint16
		var ts [2]uint32
		var arrival time.Duration
		for i := 0; i+5 <= len(data); i += 5 {
			b := data[i : i+5]
			k, idx := mux.Video, 0
			if b[0]&1 == 1 {
				k, idx = mux.Audio, 1
			}
			seq[idx] += uint16(int8(b[1]))
			ts[idx] += uint32(int8(b[2])) * 960
			arrival += time.Duration(b[4]) * time.Millisecond
			switch {
			case b[0]&0x80 != 0:
				h.m.WriteSenderReport(k, uint32(idx+1), uint64(b[3])<<32|uint64(b[2])<<24, ts[idx]+uint32(b[1]))
				continue
			case b[0]&0x40 != 0:
				h.m.SplitAt(time.Duration(b[3]) * 40 * time.Millisecond)
			case b[0]&0x20 != 0:
				h.m.NeedKeyframeAt(time.Duration(b[3]) * 40 * time.Millisecond)
			}
			pkt := &rtp.Packet{Header: rtp.Header{SSRC: uint32(idx + 1 + int(b[0]>>4&1)*10), SequenceNumber: seq[idx],
				Timestamp: ts[idx], Marker: b[3]&4 != 0}, Payload: []byte{b[3] & (flagStart | flagKey), b[1], b[2]}}
			if err := h.m.WritePacket(k, pkt, arrival); err != nil && !errors.Is(err, mux.ErrReordering) {
				t.Fatalf("WritePacket: %v", err)
			}
		}
		if _, err := h.m.Close(); err != nil && !errors.Is(err, ErrNoMedia) {
			t.Fatalf("Close: %v", err)
		}
	})
}
