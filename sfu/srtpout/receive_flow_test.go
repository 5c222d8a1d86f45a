package srtpout

import (
	"sync"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// TestReceiveDirect publishes video and audio across a sequence number
// wrap and checks every packet reaches the handler exactly once: taken
// over by the direct receive path once the track exists when the SFU's
// side is the DTLS server, all through pion when it is the DTLS client.
// On the direct path it then checks out-of-order packets delivered,
// replayed datagrams dropped, a lost packet NACKed by pion's generator
// and its resend delivered, receiver reports counting the direct packets
// (across the wrap), TWCC feedback sent and sender reports (SRTCP) still
// read through pion.
func TestReceiveDirect(t *testing.T) {
	for _, tc := range []struct {
		name   string
		direct bool
	}{{"sfu is dtls server", true}, {"sfu is dtls client", false}} {
		t.Run(tc.name, func(t *testing.T) {
			s := newIngestPeer(t)
			pub := newPublisher(t, webrtc.DTLSRoleAuto)
			if tc.direct {
				exchange(t, s.pc, pub.pc)
			} else {
				exchange(t, pub.pc, s.pc)
			}
			const first, count = 65000, 1200 // wraps after 536 packets
			var wg sync.WaitGroup
			for _, w := range []struct {
				track *webrtc.TrackLocalStaticRTP
				kind  string
				pt    uint8
			}{{pub.video, "video", 96}, {pub.audio, "audio", 111}} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					sendUntilReceived(t, w.track, w.pt, first, count, func() int { got, _ := s.received(w.kind); return len(got) })
				}()
			}
			wg.Wait()
			if got := <-s.settled; got != tc.direct {
				t.Fatalf("settled(%v), want %v", got, tc.direct)
			}
			for _, kind := range []string{"video", "audio"} {
				got, direct := s.received(kind)
				t.Logf("%s: %d received, %d direct, dropped %d", kind, len(got), direct, s.recv.Dropped())
				checkOnce(t, kind, got, first, count)
				if tc.direct && direct < count/2 || !tc.direct && direct != 0 {
					t.Fatalf("%s: %d of %d packets received directly (direct path %v)", kind, direct, len(got), tc.direct)
				}
			}
			if !tc.direct {
				return
			}
			checkDirectFlow(t, s, pub, uint16(first+count-1<<16))
		})
	}
}

// checkDirectFlow runs the direct-path checks from sequence number next.
func checkDirectFlow(t *testing.T, s *ingestPeer, pub *publisher, next uint16) {
	video := pub.ssrc(0)
	// Out of order: all delivered, in the order they came.
	before, _ := s.received("video")
	for _, seq := range []uint16{next + 2, next, next + 1} {
		if err := pub.video.WriteRTP(testPacket(96, seq)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "out-of-order packets", func() bool { got, _ := s.received("video"); return len(got) == len(before)+3 })
	got, _ := s.received("video")
	for i, want := range []uint16{next + 2, next, next + 1} {
		if seq := got[len(before)+i].SequenceNumber; seq != want {
			t.Fatalf("out of order: got %d, want %d", seq, want)
		}
	}
	// Replayed datagrams: consumed and dropped.
	s.mu.Lock()
	replay := append([][]byte(nil), s.replay[len(s.replay)-10:]...)
	inject := s.replays
	s.mu.Unlock()
	dropped := s.recv.Dropped()
	for _, b := range replay {
		if !inject(b) {
			t.Fatal("a replayed datagram of a taken-over stream went on to pion")
		}
	}
	if d := s.recv.Dropped() - dropped; d != 10 {
		t.Fatalf("%d of 10 replayed datagrams dropped", d)
	}
	if again, _ := s.received("video"); len(again) != len(got) {
		t.Fatalf("replays delivered: %d packets, had %d", len(again), len(got))
	}
	// A lost packet: NACKed by pion's generator, then resent and taken.
	lost := next + 3
	for seq := next + 4; seq < next+40; seq++ {
		if err := pub.video.WriteRTP(testPacket(96, seq)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond)
	}
	waitFor(t, "a NACK for the lost packet", func() bool { return pub.wasNacked(lost) })
	if err := pub.video.WriteRTP(testPacket(96, lost)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the resent packet", func() bool {
		got, _ := s.received("video")
		return got[len(got)-1].SequenceNumber == lost
	})
	// Receiver reports count the direct packets, across the wrap.
	want := uint32(1)<<16 | uint32(next+39)
	waitFor(t, "a receiver report of the direct packets", func() bool { return pub.reported(video) >= want })
	twcc := pub.count("twcc")
	for seq := next + 40; seq < next+60; seq++ {
		if err := pub.video.WriteRTP(testPacket(96, seq)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond)
	}
	waitFor(t, "TWCC feedback", func() bool { return pub.count("twcc") > twcc })
	// SRTCP stays pion's.
	if err := pub.pc.WriteRTCP([]rtcp.Packet{&rtcp.SenderReport{SSRC: video, NTPTime: 1 << 40, RTPTime: 1}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a sender report", func() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.srtcp > 0 })
}

// checkOnce wants every sequence number from first+1 on received exactly
// once (the first one may be resent until DTLS was up): at the hand-over
// a few packets pion had buffered may come after the first direct ones.
func checkOnce(t *testing.T, kind string, pkts []*rtp.Packet, first uint16, count int) {
	t.Helper()
	seen := make(map[uint16]int)
	for _, p := range pkts {
		seen[p.SequenceNumber]++
		want := testPacket(p.PayloadType, p.SequenceNumber)
		if string(p.Payload) != string(want.Payload) || p.Timestamp != want.Timestamp || p.Marker != want.Marker {
			t.Fatalf("%s: packet %d differs: %+v", kind, p.SequenceNumber, p)
		}
	}
	for i := 1; i < count; i++ {
		if n := seen[first+uint16(i)]; n != 1 {
			t.Fatalf("%s: packet %d received %d times", kind, first+uint16(i), n)
		}
	}
	if len(seen) != count {
		t.Fatalf("%s: %d sequence numbers, want %d", kind, len(seen), count)
	}
}
