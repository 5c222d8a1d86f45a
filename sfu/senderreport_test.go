package sfu

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
)

// srViewer is a viewer that keeps the sender reports it gets.
type srViewer struct {
	*viewer
	ssrc    atomic.Uint32 // of the forwarded video stream
	reports chan rtcp.SenderReport
}

func startSRViewer(t *testing.T, s *SFU) *srViewer {
	t.Helper()
	v := &srViewer{viewer: &viewer{pc: newClientPC(t), peer: newFakePeer()}, reports: make(chan rtcp.SenderReport, 256)}
	var err error
	v.conn, err = s.Join(JoinRequest{ChannelID: "ch", ConnectionID: NewID(), Role: RecvOnly, Peer: v.peer})
	if err != nil {
		t.Fatal(err)
	}
	v.pc.OnTrack(func(tr *webrtc.TrackRemote, r *webrtc.RTPReceiver) {
		v.ssrc.Store(uint32(tr.SSRC()))
		v.wg.Add(2)
		go func() {
			defer v.wg.Done()
			for {
				if _, _, err := tr.ReadRTP(); err != nil {
					return
				}
			}
		}()
		go func() {
			defer v.wg.Done()
			for {
				pkts, _, err := r.ReadRTCP()
				if err != nil {
					return
				}
				for _, p := range pkts {
					if sr, ok := p.(*rtcp.SenderReport); ok {
						select {
						case v.reports <- *sr:
						default:
						}
					}
				}
			}
		}()
	})
	connect(t, v.conn, v.pc, nil)
	t.Cleanup(func() { _ = v.pc.Close(); v.wg.Wait() })
	return v
}

// waitReport returns the first report match accepts, failing after d.
func (v *srViewer) waitReport(t *testing.T, d time.Duration, match func(rtcp.SenderReport) bool) rtcp.SenderReport {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case sr := <-v.reports:
			if match(sr) {
				return sr
			}
		case <-deadline:
			t.Fatal("no matching sender report reached the viewer")
		}
	}
}

// TestViewersGetPublisherSenderReports checks that a publisher's sender
// report reaches its viewer with the publisher's clock mapping unchanged
// (what keeps audio and video in sync) and the viewer's own SSRC and
// counts.
func TestViewersGetPublisherSenderReports(t *testing.T) {
	s := newTestSFU(t, nil)
	v := startSRViewer(t, s)
	pubConn, err := s.Join(JoinRequest{ChannelID: "ch", ConnectionID: NewID(), Role: SendOnly, Video: true, Peer: newFakePeer()})
	if err != nil {
		t.Fatal(err)
	}
	pub := startPublisher(t, pubConn)
	v.reAnswer(t, 10*time.Second)
	eventually(t, "the forwarded stream", 10*time.Second, func() bool { return v.ssrc.Load() != 0 })
	pubSSRC := uint32(pub.pc.GetSenders()[0].GetParameters().Encodings[0].SSRC)

	const ntp, rtpTime = 0xabcdef0012345678, 424242
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			_ = pub.pc.WriteRTCP([]rtcp.Packet{&rtcp.SenderReport{SSRC: pubSSRC, NTPTime: ntp, RTPTime: rtpTime,
				PacketCount: 1, OctetCount: 1}})
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	sr := v.waitReport(t, 10*time.Second, func(sr rtcp.SenderReport) bool { return sr.NTPTime == ntp })
	if sr.SSRC != v.ssrc.Load() || sr.RTPTime != rtpTime {
		t.Fatalf("report ssrc %d rtp %d, want the viewer's stream %d and %d", sr.SSRC, sr.RTPTime, v.ssrc.Load(), rtpTime)
	}
	// The publisher's payloads are 5 bytes each.
	if sr.PacketCount == 0 || sr.OctetCount != 5*sr.PacketCount {
		t.Fatalf("report counts %d packets %d bytes, want the viewer's (5 bytes a packet)", sr.PacketCount, sr.OctetCount)
	}
}

// TestViewersGetOwnSenderReportsWithoutPublisherReports checks the
// fallback: a publisher that sends no sender reports has its tracks
// reported from the SFU's clock once it has sent for srFallbackAfter.
func TestViewersGetOwnSenderReportsWithoutPublisherReports(t *testing.T) {
	clock := &fakeClock{}
	s := newTestSFU(t, clock)
	v := startSRViewer(t, s)
	pubConn, err := s.Join(JoinRequest{ChannelID: "ch", ConnectionID: NewID(), Role: SendOnly, Video: true, Peer: newFakePeer()})
	if err != nil {
		t.Fatal(err)
	}
	startPublisherOn(t, pubConn, newClientPCWith(t, false))
	v.reAnswer(t, 10*time.Second)
	eventually(t, "the forwarded stream", 10*time.Second, func() bool { return v.ssrc.Load() != 0 })
	select {
	case sr := <-v.reports:
		t.Fatalf("a report before %v: %+v", srFallbackAfter, sr)
	case <-time.After(300 * time.Millisecond):
	}
	clock.advance(srFallbackAfter + time.Second)
	want := ntpTime(clock.now()) >> 32
	sr := v.waitReport(t, 10*time.Second, func(rtcp.SenderReport) bool { return true })
	if sr.SSRC != v.ssrc.Load() || sr.NTPTime>>32 != want || sr.RTPTime%900 != 0 || sr.PacketCount == 0 {
		t.Fatalf("report %+v, want ssrc %d, NTP seconds %d and a packet's timestamp", sr, v.ssrc.Load(), want)
	}
}

func TestNTPTime(t *testing.T) {
	for _, tc := range []struct {
		t    time.Time
		want uint64
	}{
		{time.Unix(0, 0), 2208988800 << 32},
		{time.Unix(1, 500_000_000), (2208988801 << 32) | 1<<31},
	} {
		if got := ntpTime(tc.t); got != tc.want {
			t.Errorf("ntpTime(%v) = %#x, want %#x", tc.t, got, tc.want)
		}
	}
}
