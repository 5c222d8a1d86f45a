package srtpout

import (
	"testing"

	"github.com/pion/rtp"
)

// TestRolloverAtHandOver checks the rollover counter a stream taken over
// starts with, from the sequence numbers pion's read loop saw.
func TestRolloverAtHandOver(t *testing.T) {
	for _, tc := range []struct {
		name string
		seen []uint16
		next uint16
		want uint32
	}{
		{"nothing seen", nil, 7, 0},
		{"no wrap", []uint16{100, 101, 103, 102}, 104, 0},
		{"wrapped once", []uint16{65534, 65535, 0, 1}, 2, 1},
		{"late packet of the cycle before", []uint16{65535, 0, 1}, 65534, 0},
		{"next wraps", []uint16{65533, 65534}, 1, 1},
		{"wrapped twice", []uint16{65535, 0, 30000, 60000, 65535, 3}, 9, 2},
		{"reordered across the wrap", []uint16{65534, 1, 65535, 0}, 2, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var e extSeq
			for _, s := range tc.seen {
				e.update(s)
			}
			if got := e.rocFor(tc.next); got != tc.want {
				t.Fatalf("rocFor(%d) = %d, want %d", tc.next, got, tc.want)
			}
		})
	}
}

// TestUnwrapRTX checks RFC 4588 unwrapping and that padding-only probes
// are dropped.
func TestUnwrapRTX(t *testing.T) {
	of := &want{ssrc: 1111, payloadType: 96}
	p := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 97, SequenceNumber: 5, SSRC: 2222, Marker: true,
		Padding: true, PaddingSize: 4, Timestamp: 90}, Payload: []byte{0x12, 0x34, 0xaa, 0xbb}}
	got := unwrapRTX(p, of)
	if got == nil || got.SequenceNumber != 0x1234 || got.SSRC != 1111 || got.PayloadType != 96 ||
		!got.Marker || got.Timestamp != 90 || string(got.Payload) != "\xaa\xbb" || got.Padding {
		t.Fatalf("unwrapped %+v", got)
	}
	probe := &rtp.Packet{Header: rtp.Header{Version: 2, Padding: true, PaddingSize: 200}, Payload: []byte{}}
	if unwrapRTX(probe, of) != nil {
		t.Fatal("a padding-only probe was delivered")
	}
}
