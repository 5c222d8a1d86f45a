package sfu

import (
	"net"
	"sync"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// seqSink records the sequence numbers a subscription delivers, per
// track.
type seqSink struct {
	mu   sync.Mutex
	seqs map[string]map[uint16]int
}

func (s *seqSink) WriteRTP(t TrackInfo, p *rtp.Packet, _ time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seqs[t.TrackID] == nil {
		s.seqs[t.TrackID] = map[uint16]int{}
	}
	s.seqs[t.TrackID][p.SequenceNumber]++
}
func (s *seqSink) WriteSenderReport(TrackInfo, *rtcp.SenderReport, time.Time) {}
func (s *seqSink) PublisherClosed()                                           {}

// got reports how many times any track delivered seq.
func (s *seqSink) got(seq uint16) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, m := range s.seqs {
		n += m[seq]
	}
	return n
}

// dropOnce is a client interceptor, right above pion's SRTP writer, that
// drops the first sending of one sequence number on the media SSRC: a
// packet lost on the way, which the client's NACK responder resends as
// RTX once the SFU asks.
type dropOnce struct {
	interceptor.NoOp
	seq     uint16
	mu      sync.Mutex
	dropped bool
}

func (d *dropOnce) NewInterceptor(string) (interceptor.Interceptor, error) { return d, nil }

func (d *dropOnce) BindLocalStream(info *interceptor.StreamInfo, next interceptor.RTPWriter) interceptor.RTPWriter {
	return interceptor.RTPWriterFunc(func(h *rtp.Header, payload []byte, a interceptor.Attributes) (int, error) {
		if h.SSRC == info.SSRC && h.SequenceNumber == d.seq && info.MimeType != "video/rtx" {
			d.mu.Lock()
			first := !d.dropped
			d.dropped = true
			d.mu.Unlock()
			if first {
				return len(payload), nil
			}
		}
		return next.Write(h, payload, a)
	})
}

// TestDirectReceiveRepairsWithRTX publishes through the direct receive
// path, loses one packet on the way, and checks the SFU's NACK
// (nackfeedback.go, fed by the direct path) brings it back as RTX, which the
// direct path unwraps into the track: pion's own repair path never runs
// once the media stream is taken over. Transport-wide congestion
// feedback keeps reaching the publisher. It runs with the shared socket
// read through Go's poller and in coalesced batches outside it.
func TestDirectReceiveRepairsWithRTX(t *testing.T) {
	for _, tc := range []struct {
		name     string
		coalesce time.Duration
	}{
		{"poller", 0},
		{"coalesced", time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testDirectReceiveRepairs(t, func(cfg *Config) {
				cfg.DirectSRTPReceive, cfg.UDPReceiveCoalesce = true, tc.coalesce
			})
		})
	}
}

func testDirectReceiveRepairs(t *testing.T, configure func(*Config)) {
	s := newTestSFUWith(t, configure)
	t.Cleanup(func() { _ = s.Close() })
	c, err := s.Join(JoinRequest{ChannelID: "ch", ConnectionID: NewID(), Role: SendOnly, Video: true, Peer: newFakePeer()})
	if err != nil {
		t.Fatal(err)
	}
	sink := &seqSink{seqs: map[string]map[uint16]int{}}
	if _, err := s.Subscribe(c.ID(), sink); err != nil {
		t.Fatal(err)
	}
	const lost = 150 // 1.5 s in: long after the hand-over
	drop := &dropOnce{seq: lost}
	pub := startPublisherOn(t, c, newClientPCDropping(t, drop))
	eventually(t, "packets after the lost one", 10*time.Second, func() bool { return sink.got(lost+20) > 0 })
	eventually(t, "the lost packet, repaired", 5*time.Second, func() bool { return sink.got(lost) == 1 })
	drop.mu.Lock()
	dropped := drop.dropped
	drop.mu.Unlock()
	if !dropped {
		t.Fatal("the packet was never dropped")
	}
	// Transport-wide congestion feedback (twccfeedback.go) of the
	// direct packets reaches the publisher.
	twccs := pub.twccs.Load()
	eventually(t, "TWCC feedback", 5*time.Second, func() bool { return pub.twccs.Load() > twccs+2 })
	ssrc := pub.ssrc.Load()
	eventually(t, "the track taken over", 5*time.Second, func() bool { return c.path.Receiver().Taken(ssrc) })
	st := s.Stats()
	if st.DirectSRTPReceiveConnections != 1 || st.PionSRTPReceiveConnections != 0 {
		t.Fatalf("receive paths: %d direct, %d pion", st.DirectSRTPReceiveConnections, st.PionSRTPReceiveConnections)
	}
	if st.DirectRTPPackets < st.ReceivedRTPPackets*3/4 {
		t.Fatalf("%d of %d packets received directly", st.DirectRTPPackets, st.ReceivedRTPPackets)
	}
	if s.cfg.UDPReceiveCoalesce > 0 && (st.UDPBatchReads == 0 || st.UDPBatchDatagrams < st.ReceivedRTPPackets) {
		t.Fatalf("%d datagrams read in %d batches for %d packets received", st.UDPBatchDatagrams, st.UDPBatchReads, st.ReceivedRTPPackets)
	}
	if s.cfg.UDPReceiveCoalesce == 0 && st.UDPBatchReads != 0 {
		t.Fatalf("%d batched reads with udp_receive_coalesce 0", st.UDPBatchReads)
	}
}

// newClientPCDropping is newClientPC with drop right above the SRTP
// writer, sending transport-wide sequence numbers.
func newClientPCDropping(t *testing.T, drop *dropOnce) *webrtc.PeerConnection {
	t.Helper()
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	ir := &interceptor.Registry{}
	ir.Add(drop)
	if err := webrtc.RegisterDefaultInterceptors(m, ir); err != nil {
		t.Fatal(err)
	}
	// Transport-wide sequence numbers on what it sends, as browsers do.
	ext, err := twcc.NewHeaderExtensionInterceptor()
	if err != nil {
		t.Fatal(err)
	}
	ir.Add(ext)
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	pc, err := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)).
		NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	return pc
}

// TestDirectReceiveSimulcast publishes three rid layers and checks each
// is taken over by the direct receive path once pion has turned it into
// a track (rid probing stays pion's), and that the layers reach the
// recorder's subscription.
func TestDirectReceiveSimulcast(t *testing.T) {
	s := newTestSFUWith(t, func(cfg *Config) { cfg.DirectSRTPReceive = true })
	t.Cleanup(func() { _ = s.Close() })
	c, err := s.Join(JoinRequest{ChannelID: "ch", ConnectionID: NewID(), Role: SendOnly, Video: true, Simulcast: true, Peer: newFakePeer()})
	if err != nil {
		t.Fatal(err)
	}
	sink := &seqSink{seqs: map[string]map[uint16]int{}}
	if _, err := s.Subscribe(c.ID(), sink); err != nil {
		t.Fatal(err)
	}
	pub := startSimulcastPublisher(t, c)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for seq := uint16(0); ; seq++ {
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
			for l := range simulcastLayers {
				pkt := &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: uint32(seq) * 900, Marker: true},
					Payload: []byte{0x10, 0x00, 0x9d, 0x01, 0x2a}}
				_ = pub.send(l, pkt)
			}
		}
	}()
	defer func() { close(stop); <-done }()
	eventually(t, "every layer taken over", 10*time.Second, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		taken := 0
		for _, tr := range c.tracks {
			if tr.source != nil && c.path.Receiver().Taken(tr.info.SSRC) {
				taken++
			}
		}
		return taken == simulcastLayers
	})
	before := s.Stats().DirectRTPPackets
	eventually(t, "layers received directly", 5*time.Second, func() bool {
		return s.Stats().DirectRTPPackets >= before+3*simulcastLayers
	})
	eventually(t, "the recorder's subscription fed", 5*time.Second, func() bool {
		sink.mu.Lock()
		defer sink.mu.Unlock()
		return len(sink.seqs) > 0
	})
}

// TestDirectReceiveQueuesForManyViewers publishes through the direct
// receive path to directFanoutAt viewers, so that the track's own
// goroutine forwards what the socket's reader queues, and checks every
// viewer keeps getting the publisher's packets.
func TestDirectReceiveQueuesForManyViewers(t *testing.T) {
	s := newTestSFUWith(t, func(cfg *Config) { cfg.DirectSRTPReceive = true })
	t.Cleanup(func() { _ = s.Close() })
	viewers := make([]*viewer, directFanoutAt)
	for i := range viewers {
		viewers[i] = startViewer(t, s, "")
	}
	pubID := NewID()
	c, err := s.Join(JoinRequest{ChannelID: "ch", ConnectionID: pubID, Role: SendOnly, Video: true, Peer: newFakePeer()})
	if err != nil {
		t.Fatal(err)
	}
	pub := startPublisher(t, c)
	for _, v := range viewers {
		v.reAnswer(t, 10*time.Second)
	}
	ssrc := pub.ssrc.Load()
	eventually(t, "the track taken over with every viewer bound", 10*time.Second, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, tr := range c.tracks {
			return c.path.Receiver().Taken(ssrc) && tr.viewers.Load() == directFanoutAt
		}
		return false
	})
	before := make([]int64, len(viewers))
	for i, v := range viewers {
		before[i] = v.count(pubID)
	}
	direct := s.Stats().DirectRTPPackets
	for i, v := range viewers {
		eventually(t, "packets forwarded from the queue", 10*time.Second, func() bool { return v.count(pubID) >= before[i]+30 })
	}
	if got := s.Stats().DirectRTPPackets - direct; got < 30 {
		t.Fatalf("%d packets received directly meanwhile", got)
	}
}
