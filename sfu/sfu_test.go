package sfu

import (
	"errors"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// fakeClock is a settable clock for the PLI limiter.
type fakeClock struct{ ns atomic.Int64 }

func (c *fakeClock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// freeUDPPort returns a UDP port on 127.0.0.1 that nothing uses at the
// moment, for an SFU's shared media port.
func freeUDPPort(t testing.TB) uint16 {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return uint16(c.LocalAddr().(*net.UDPAddr).Port)
}

func newTestSFU(t testing.TB, clock *fakeClock) *SFU {
	t.Helper()
	return newTestSFUWith(t, func(cfg *Config) {
		if clock != nil {
			clock.ns.Store(time.Unix(1000, 0).UnixNano())
			cfg.Now = clock.now
		}
	})
}

// newTestSFUWith is newTestSFU's configuration, changed by mutate.
func newTestSFUWith(t testing.TB, mutate func(*Config)) *SFU {
	t.Helper()
	cfg := DefaultConfig()
	cfg.UDPPort = freeUDPPort(t)
	cfg.ICEAddress = "127.0.0.1"
	cfg.ICELoopback = true
	cfg.DefaultVideoCodec = VP8
	cfg.PLIInterval = time.Second
	mutate(&cfg)
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// publisher is a pion client sending VP8 and counting the PLIs it gets.
type publisher struct {
	pc    *webrtc.PeerConnection
	track *webrtc.TrackLocalStaticRTP
	raw   atomic.Pointer[webrtc.TrackLocalWriter] // the track's writer, below pion's header rewriting
	ssrc  atomic.Uint32                           // the track's SSRC
	plis  atomic.Int64
	twccs atomic.Int64 // transport-wide congestion feedback packets
	stop  chan struct{}
	wg    sync.WaitGroup
}

// rawTrack is the publisher's track as added to its PeerConnection: it
// notes the writer and SSRC pion binds it to, so that a test can send packets the
// track itself would refuse or rewrite.
type rawTrack struct {
	*webrtc.TrackLocalStaticRTP
	p *publisher
}

// Bind notes the writer and binds the track.
func (r rawTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	w := ctx.WriteStream()
	r.p.ssrc.Store(uint32(ctx.SSRC()))
	r.p.raw.Store(&w)
	return r.TrackLocalStaticRTP.Bind(ctx)
}

func startPublisher(t *testing.T, c *Connection) *publisher {
	t.Helper()
	return startPublisherOn(t, c, newClientPC(t))
}

// startPublisherOn is startPublisher with the client's PeerConnection.
func startPublisherOn(t *testing.T, c *Connection, pc *webrtc.PeerConnection) *publisher {
	t.Helper()
	p := &publisher{pc: pc, stop: make(chan struct{})}
	var err error
	p.track, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "cam", "client-stream")
	if err != nil {
		t.Fatal(err)
	}
	connect(t, c, p.pc, func() {
		sender, err := p.pc.AddTrack(rawTrack{TrackLocalStaticRTP: p.track, p: p})
		if err != nil {
			t.Fatalf("client add track: %v", err)
		}
		p.wg.Add(1)
		go func() { defer p.wg.Done(); p.countPLIs(sender) }()
	})
	p.wg.Add(1)
	go func() { defer p.wg.Done(); p.send() }()
	t.Cleanup(p.close)
	return p
}

func (p *publisher) countPLIs(sender *webrtc.RTPSender) {
	for {
		pkts, _, err := sender.ReadRTCP()
		if err != nil {
			return
		}
		for _, pk := range pkts {
			switch pk.(type) {
			case *rtcp.PictureLossIndication:
				p.plis.Add(1)
			case *rtcp.TransportLayerCC:
				p.twccs.Add(1)
			}
		}
	}
}

func (p *publisher) send() {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for seq := uint16(0); ; seq++ {
		select {
		case <-p.stop:
			return
		case <-tick.C:
		}
		pkt := &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: uint32(seq) * 900, Marker: true},
			Payload: []byte{0x10, 0x00, 0x9d, 0x01, 0x2a}}
		_ = p.track.WriteRTP(pkt)
	}
}

func (p *publisher) close() {
	select {
	case <-p.stop:
		return
	default:
	}
	close(p.stop)
	_ = p.pc.Close()
	p.wg.Wait()
}

// TestSinkReceivesPublisherMedia drives a pion publisher through the SFU
// into a test sink and checks packets, track info, merged PLIs and the
// end-of-stream callback, one callback at a time and none after it: for
// a sink served by a delivery goroutine and for a QueueingSink, called
// from the tracks' readers.
func TestSinkReceivesPublisherMedia(t *testing.T) {
	t.Run("delivery goroutine", func(t *testing.T) {
		sink := newFakeSink()
		testSinkReceives(t, sink, sink)
	})
	t.Run("queueing sink", func(t *testing.T) {
		sink := newFakeSink()
		testSinkReceives(t, queueingSink{sink}, sink)
	})
}

func testSinkReceives(t *testing.T, subscribed Sink, sink *fakeSink) {
	before := runtime.NumGoroutine()
	clock := &fakeClock{}
	s := newTestSFU(t, clock)
	pubConn, err := s.Join(JoinRequest{ChannelID: "ch", ConnectionID: NewID(), Role: SendOnly, Video: true, Peer: newFakePeer()})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := s.Subscribe(pubConn.ID(), subscribed)
	if err != nil {
		t.Fatal(err)
	}
	pub := startPublisher(t, pubConn)

	var trackID string
	eventually(t, "sink packets", 10*time.Second, func() bool {
		counts, infos := sink.snapshot()
		for id, n := range counts {
			if n >= 20 {
				trackID = id
				info := infos[id]
				if info.ConnectionID != pubConn.ID() || info.Kind != KindVideo || info.MimeType != webrtc.MimeTypeVP8 || info.ClockRate != 90000 {
					t.Fatalf("track info = %+v", info)
				}
				return true
			}
		}
		return false
	})

	// The SFU asked for a keyframe when the track appeared; more requests
	// inside the interval are merged into one PLI sent after it.
	eventually(t, "first PLI", 5*time.Second, func() bool { return pub.plis.Load() == 1 })
	for range 5 {
		if err := sub.RequestKeyFrame(trackID); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(300 * time.Millisecond)
	if n := pub.plis.Load(); n != 1 {
		t.Fatalf("PLIs inside the interval = %d, want 1", n)
	}
	clock.advance(time.Second)
	eventually(t, "merged PLI", 5*time.Second, func() bool { return pub.plis.Load() == 2 })
	time.Sleep(300 * time.Millisecond)
	if n := pub.plis.Load(); n != 2 {
		t.Fatalf("PLIs after the interval = %d, want 2", n)
	}
	eventually(t, "a sender report at the sink", 5*time.Second, func() bool {
		sink.mu.Lock()
		defer sink.mu.Unlock()
		return sink.srs > 0
	})
	if err := sub.RequestKeyFrame("no-such-track"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown track: err = %v, want ErrNotFound", err)
	}

	pub.close()
	if err := pubConn.Close(); err != nil {
		t.Logf("close: %v", err)
	}
	select {
	case <-sink.closed:
	case <-time.After(5 * time.Second):
		t.Fatal("sink never got PublisherClosed")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	checkGoroutines(t, before)
	if sink.overlapped.Load() || sink.late.Load() != 0 {
		t.Fatalf("callbacks overlapped: %v; %d after PublisherClosed", sink.overlapped.Load(), sink.late.Load())
	}
}

// checkGoroutines waits for the goroutine count to fall back to before.
func checkGoroutines(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			n := runtime.Stack(buf, true)
			t.Fatalf("goroutines: %d before, %d after:\n%s", before, runtime.NumGoroutine(), firstLines(string(buf[:n]), 80))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}

// blockedSink never returns from WriteRTP until released.
type blockedSink struct {
	release chan struct{}
	closed  chan struct{}
}

func (s *blockedSink) WriteRTP(TrackInfo, *rtp.Packet, time.Time)                 { <-s.release }
func (s *blockedSink) WriteSenderReport(TrackInfo, *rtcp.SenderReport, time.Time) {}
func (s *blockedSink) PublisherClosed()                                           { close(s.closed) }

// TestSlowSinkDrops checks that a sink that stops reading never stalls the
// publisher's read loop: packets keep arriving and the sink's are dropped
// and counted.
func TestSlowSinkDrops(t *testing.T) {
	cfg := DefaultConfig()
	cfg.ICEAddress, cfg.ICELoopback, cfg.DefaultVideoCodec, cfg.SinkQueue = "127.0.0.1", true, VP8, 4
	cfg.UDPPort = freeUDPPort(t) // not 50000, which a running node may hold
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c, err := s.Join(JoinRequest{ChannelID: "ch", ConnectionID: NewID(), Role: SendOnly, Video: true, Peer: newFakePeer()})
	if err != nil {
		t.Fatal(err)
	}
	sink := &blockedSink{release: make(chan struct{}), closed: make(chan struct{})}
	sub, err := s.Subscribe(c.ID(), sink)
	if err != nil {
		t.Fatal(err)
	}
	pub := startPublisher(t, c)
	eventually(t, "drops", 10*time.Second, func() bool { return sub.Dropped() >= 20 })
	before := s.Stats().ReceivedRTPPackets
	eventually(t, "packets still read", 5*time.Second, func() bool { return s.Stats().ReceivedRTPPackets > before+10 })
	if st := s.Stats(); st.SinkDropped < 20 {
		t.Fatalf("stats count %d drops", st.SinkDropped)
	}
	close(sink.release)
	pub.close()
	if err := sub.Close(); err != nil {
		t.Fatal(err)
	}
	<-sink.closed
}
