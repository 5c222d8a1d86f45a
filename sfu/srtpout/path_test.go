package srtpout

import (
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/kiroku-sfu/kiroku/memudp"
	"github.com/kiroku-sfu/kiroku/sfu/hostmux"
)

// loopbackSettings keeps a pion peer's ICE on 127.0.0.1 over UDP4.
func loopbackSettings() webrtc.SettingEngine {
	var se webrtc.SettingEngine
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIncludeLoopbackCandidate(true)
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	return se
}

// sendingPeer is the SFU's side: a PeerConnection on the SFU's shared
// media port (hostmux), sending through a Path.
type sendingPeer struct {
	pc      *webrtc.PeerConnection
	path    *Path
	settled chan bool // what the Path reported settling on
	video   *webrtc.TrackLocalStaticRTP
	audio   *webrtc.TrackLocalStaticRTP
}

// noSockets knows no socket, as if the selected pair's local address had
// none.
type noSockets struct{}

func (noSockets) Socket(netip.Addr) *memudp.Conn { return nil }

// newSendingPeer builds it; with foreign, its Path finds no socket for
// the selected pair's local address.
func newSendingPeer(t *testing.T, foreign bool) *sendingPeer {
	t.Helper()
	mux, err := hostmux.New(hostmux.Config{IPv4: true, Loopback: true,
		Keep: func(a netip.Addr) bool { return a.IsLoopback() }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mux.Close() })
	var pathSockets Sockets = mux
	if foreign {
		pathSockets = noSockets{}
	}
	se := loopbackSettings()
	se.SetICEUDPMux(mux)
	p := &sendingPeer{settled: make(chan bool, 2)}
	p.path = NewPath(pathSockets, slog.New(slog.NewTextHandler(io.Discard, nil)), func(direct bool) { p.settled <- direct })
	p.path.Install(&se)
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	ir := &interceptor.Registry{}
	ir.Add(p.path)
	api := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
	if p.pc, err = api.NewPeerConnection(webrtc.Configuration{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.pc.Close() })
	p.path.Attach(p.pc)
	p.video, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}, "video", "s")
	if err != nil {
		t.Fatal(err)
	}
	p.audio, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus}, "audio", "s")
	if err != nil {
		t.Fatal(err)
	}
	for _, track := range []webrtc.TrackLocal{p.video, p.audio} {
		if _, err := p.pc.AddTrack(track); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

// receivingPeer is a plain pion client: it answers and records the
// sequence numbers and payloads it decrypts, per kind.
type receivingPeer struct {
	pc *webrtc.PeerConnection
	mu sync.Mutex
	rx map[string][]*rtp.Packet
}

func newReceivingPeer(t *testing.T, role webrtc.DTLSRole) *receivingPeer {
	t.Helper()
	se := loopbackSettings()
	if role != webrtc.DTLSRoleAuto {
		if err := se.SetAnsweringDTLSRole(role); err != nil {
			t.Fatal(err)
		}
	}
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	pc, err := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	r := &receivingPeer{pc: pc, rx: make(map[string][]*rtp.Packet)}
	pc.OnTrack(func(track *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		for {
			p, _, err := track.ReadRTP()
			if err != nil {
				return
			}
			r.mu.Lock()
			r.rx[track.Kind().String()] = append(r.rx[track.Kind().String()], p)
			r.mu.Unlock()
		}
	})
	return r
}

func (r *receivingPeer) received(kind string) []*rtp.Packet {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*rtp.Packet(nil), r.rx[kind]...)
}

// connect runs offer and answer between s and r with every candidate in
// the SDP.
func connect(t *testing.T, s *sendingPeer, r *receivingPeer) {
	t.Helper()
	offer, err := s.pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(s.pc)
	if err := s.pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-gathered
	if err := r.pc.SetRemoteDescription(*s.pc.LocalDescription()); err != nil {
		t.Fatal(err)
	}
	answer, err := r.pc.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered = webrtc.GatheringCompletePromise(r.pc)
	if err := r.pc.SetLocalDescription(answer); err != nil {
		t.Fatal(err)
	}
	<-gathered
	if err := s.pc.SetRemoteDescription(*r.pc.LocalDescription()); err != nil {
		t.Fatal(err)
	}
}

// TestPathDelivers sends video and audio, from two goroutines, across a
// sequence number wrap (so the rollover counter changes) and checks a
// pion receiver decrypts every packet after the first one it got, in
// order with the right payloads: through the Path when the SFU's side is
// the DTLS server, through pion's own writer when it is the client or
// the selected pair's socket is unknown.
func TestPathDelivers(t *testing.T) {
	for _, tc := range []struct {
		name       string
		answerRole webrtc.DTLSRole
		foreign    bool
		direct     bool
	}{
		{"sfu is dtls server", webrtc.DTLSRoleClient, false, true},
		{"sfu is dtls client", webrtc.DTLSRoleServer, false, false},
		{"no socket for the pair", webrtc.DTLSRoleClient, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSendingPeer(t, tc.foreign)
			r := newReceivingPeer(t, tc.answerRole)
			connect(t, s, r)
			const first, count = 65000, 1200 // wraps after 536 packets
			var wg sync.WaitGroup
			for _, w := range []struct {
				track *webrtc.TrackLocalStaticRTP
				kind  string
				pt    uint8
			}{{s.video, "video", 96}, {s.audio, "audio", 111}} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					sendUntilReceived(t, w.track, w.pt, first, count, func() int { return len(r.received(w.kind)) })
				}()
			}
			wg.Wait()
			if got := s.path.Direct(); got != tc.direct {
				t.Fatalf("Direct() = %v, want %v (keys: %v)", got, tc.direct, s.path.keys.Err())
			}
			if got := <-s.settled; got != tc.direct || len(s.settled) != 0 {
				t.Fatalf("settled(%v), %d more times; want settled(%v) once", got, len(s.settled), tc.direct)
			}
			for _, kind := range []string{"video", "audio"} {
				checkReceived(t, kind, r.received(kind), first, count)
			}
		})
	}
}

// sendUntilReceived writes packets first, first+1, ... every
// millisecond; packets sent before DTLS connects are lost (by pion too),
// so it resends the whole series from the start until the receiver has
// some, then sends the rest once.
func sendUntilReceived(t *testing.T, track *webrtc.TrackLocalStaticRTP, pt uint8, first uint16, count int, got func() int) {
	deadline := time.Now().Add(15 * time.Second)
	for got() == 0 {
		if time.Now().After(deadline) {
			t.Error("nothing received")
			return
		}
		if err := track.WriteRTP(testPacket(pt, first)); err != nil {
			t.Error(err)
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	for i := 1; i < count; i++ {
		if err := track.WriteRTP(testPacket(pt, first+uint16(i))); err != nil {
			t.Error(err)
			return
		}
		if i%8 == 0 {
			// Stay under the socket buffers, on a loaded machine too: let
			// the receiver come within 24 packets before going on. The
			// kernel charges a loopback datagram about a kilobyte and more
			// of a receive buffer that holds about 200 KB by default, and
			// both tracks share the receiver's socket; a window of 100
			// packets a track lost packets under CI's load.
			for got() < i-24 && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
		}
	}
	for got() < count && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
}

func testPacket(pt uint8, seq uint16) *rtp.Packet {
	return &rtp.Packet{
		Header:  rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: seq, Timestamp: uint32(seq) * 3000, Marker: seq%3 == 0},
		Payload: []byte{byte(seq), byte(seq >> 8), 0x5a, 0xa5},
	}
}

// checkReceived wants the packets received to be the first one resent
// any number of times, then every other one once, in order.
func checkReceived(t *testing.T, kind string, pkts []*rtp.Packet, first uint16, count int) {
	t.Helper()
	next := first
	for _, p := range pkts {
		if p.SequenceNumber == first && next == first+1 {
			continue // the first packet, resent until DTLS was up
		}
		if p.SequenceNumber != next {
			t.Fatalf("%s: got sequence number %d, want %d", kind, p.SequenceNumber, next)
		}
		want := testPacket(p.PayloadType, next)
		if string(p.Payload) != string(want.Payload) || p.Timestamp != want.Timestamp || p.Marker != want.Marker {
			t.Fatalf("%s: packet %d differs: %+v", kind, next, p)
		}
		next++
	}
	if n := int(next - first); n != count {
		t.Fatalf("%s: %d packets in order, want %d", kind, n, count)
	}
}
