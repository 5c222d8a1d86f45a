package sfu

import (
	"context"
	"encoding/json"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// fakePeer is the signaling side in tests: it records what the SFU sends.
type fakePeer struct {
	reOffers    chan string
	disconnects chan string
	pushes      chan json.RawMessage
}

func newFakePeer() *fakePeer {
	return &fakePeer{reOffers: make(chan string, 16), disconnects: make(chan string, 4), pushes: make(chan json.RawMessage, 4)}
}

func (p *fakePeer) ReOffer(sdp string)       { p.reOffers <- sdp }
func (p *fakePeer) Push(d json.RawMessage)   { p.pushes <- d }
func (p *fakePeer) Disconnect(reason string) { p.disconnects <- reason }

// fakeSink records what a subscription delivers, and whether two
// callbacks ever overlapped or one came after PublisherClosed.
type fakeSink struct {
	mu      sync.Mutex
	packets map[string]int // per track id
	infos   map[string]TrackInfo
	srs     int
	closed  chan struct{}

	inside     atomic.Int32
	overlapped atomic.Bool
	ended      atomic.Bool
	late       atomic.Int64 // callbacks after PublisherClosed
}

// queueingSink is a fakeSink that says it never blocks: its subscription
// calls it from the tracks' readers.
type queueingSink struct{ *fakeSink }

func (queueingSink) QueuesWithoutBlocking() {}

func (s *fakeSink) enter() {
	if s.inside.Add(1) > 1 {
		s.overlapped.Store(true)
	}
	if s.ended.Load() {
		s.late.Add(1)
	}
}

func (s *fakeSink) leave() { s.inside.Add(-1) }

func newFakeSink() *fakeSink {
	return &fakeSink{packets: map[string]int{}, infos: map[string]TrackInfo{}, closed: make(chan struct{})}
}

func (s *fakeSink) WriteRTP(t TrackInfo, p *rtp.Packet, _ time.Time) {
	s.enter()
	defer s.leave()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.packets[t.TrackID]++
	s.infos[t.TrackID] = t
}

func (s *fakeSink) WriteSenderReport(TrackInfo, *rtcp.SenderReport, time.Time) {
	s.enter()
	defer s.leave()
	s.mu.Lock()
	s.srs++
	s.mu.Unlock()
}

func (s *fakeSink) PublisherClosed() {
	s.enter()
	defer s.leave()
	s.ended.Store(true)
	close(s.closed)
}

func (s *fakeSink) snapshot() (map[string]int, map[string]TrackInfo) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, i := map[string]int{}, map[string]TrackInfo{}
	for k, v := range s.packets {
		p[k] = v
	}
	for k, v := range s.infos {
		i[k] = v
	}
	return p, i
}

// newClientPC builds a pion client restricted to 127.0.0.1.
func newClientPC(t testing.TB) *webrtc.PeerConnection {
	t.Helper()
	return newClientPCWith(t, true)
}

// newClientPCWith builds a pion client restricted to 127.0.0.1, with
// pion's default interceptors (RTCP reports among them) or none at all.
func newClientPCWith(t testing.TB, interceptors bool) *webrtc.PeerConnection {
	t.Helper()
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	ir := &interceptor.Registry{}
	if !interceptors {
		// Nothing: no sender reports, no NACK, no congestion feedback.
	} else if err := webrtc.RegisterDefaultInterceptors(m, ir); err != nil {
		t.Fatal(err)
	}
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	api := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	return pc
}

// answer applies a server offer to a client and returns its answer.
func answer(t testing.TB, pc *webrtc.PeerConnection, offer string) string {
	t.Helper()
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		t.Fatalf("client set offer: %v", err)
	}
	ans, err := pc.CreateAnswer(nil)
	if err != nil {
		t.Fatalf("client create answer: %v", err)
	}
	done := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(ans); err != nil {
		t.Fatalf("client set answer: %v", err)
	}
	<-done
	return pc.LocalDescription().SDP
}

// connect runs the first offer/answer between an SFU connection and a client.
func connect(t testing.TB, c *Connection, pc *webrtc.PeerConnection, beforeAnswer func()) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	offer, _, _, err := c.Offer(ctx)
	if err != nil {
		t.Fatalf("offer: %v", err)
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		t.Fatalf("client set offer: %v", err)
	}
	if beforeAnswer != nil {
		beforeAnswer()
	}
	ans, err := pc.CreateAnswer(nil)
	if err != nil {
		t.Fatalf("client create answer: %v", err)
	}
	done := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(ans); err != nil {
		t.Fatalf("client set answer: %v", err)
	}
	<-done
	if err := c.SetAnswer(pc.LocalDescription().SDP); err != nil {
		t.Fatalf("set answer: %v", err)
	}
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
