package sfu

import (
	"math/rand"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// TestLayerSelectorNoHoleAcrossStalls feeds a selector what the load
// generator's simulcast publisher sends (r2, r1 and r0 at 100, 33 and 12
// one-packet frames a second, each layer numbered from 0, a keyframe now
// and then, and one whenever the selector asks) with layers stalling long enough for the receiver to move to
// a stand-in and back: every packet sent must follow the one before
// without a gap, or the viewer NACKs a number that was never sent.
func TestLayerSelectorNoHoleAcrossStalls(t *testing.T) {
	divisors := [simulcastLayers]int{8, 3, 1} // of 100 packets a second
	changes := 0
	for seed := range int64(20) {
		rng := rand.New(rand.NewSource(seed))
		s := newLayerSelector("video/VP8", 90000, 2)
		at := time.Unix(1000, 0)
		var seq [simulcastLayers]uint16
		var stalled [simulcastLayers]time.Time
		var wantKey [simulcastLayers]bool // asked for, as the load generator answers a PLI
		var last uint16
		sent := 0
		for tick := range 20000 {
			at = at.Add(10 * time.Millisecond)
			for l := simulcastLayers - 1; l >= 0; l-- {
				if tick%divisors[l] != 0 {
					continue
				}
				if rng.Intn(3000) == 0 {
					stalled[l] = at.Add(time.Duration(300+rng.Intn(1500)) * time.Millisecond)
				}
				if at.Before(stalled[l]) {
					continue
				}
				payload := []byte{0x10, 0x4b, 1, 2, 3} // an interframe
				if seq[l] == 0 || wantKey[l] || rng.Intn(100) == 0 {
					wantKey[l] = false
					payload = []byte{0x10, 0x00, 0, 0, 0x9d, 0x01, 0x2a, 1, 1, 1, 1}
				}
				p := &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq[l],
					Timestamp: uint32(seq[l]) * uint32(900*divisors[l]), Marker: true}, Payload: payload}
				seq[l]++
				if ask := s.next(l, p, at); ask != noLayer {
					wantKey[ask] = true
				}
				for _, o := range s.out {
					if sent > 0 && o.h.SequenceNumber != last+1 {
						t.Fatalf("seed %d: sent %d after %d (layer %d, now on %d)", seed, o.h.SequenceNumber, last, l, s.Current())
					}
					last = o.h.SequenceNumber
					sent++
				}
			}
		}
		changes += s.changes
	}
	if changes < 20 {
		t.Fatalf("the receivers changed layer %d times in all: the stalls test too little", changes)
	}
}
