package srtpout

import (
	"io"
	"log/slog"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/interceptor/pkg/report"
	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"github.com/kiroku-sfu/kiroku/memudp"
	"github.com/kiroku-sfu/kiroku/sfu/hostmux"
)

// ingestPeer is the SFU's side of a publishing connection: on the shared
// media port, with a direct receive path and pion's receive-side
// interceptors, reading each track as the SFU does (pion's read loop
// first, then Take).
type ingestPeer struct {
	pc      *webrtc.PeerConnection
	path    *Path
	recv    *Receiver
	settled chan bool

	mu      sync.Mutex
	got     map[string][]*rtp.Packet // by kind, both ways
	direct  map[string]int           // of which received directly
	srtcp   int                      // sender reports read from pion
	replay  [][]byte                 // RTP datagrams seen, to replay
	replays func(b []byte) bool      // hands one datagram to the tap again
}

func newIngestPeer(t *testing.T) *ingestPeer {
	t.Helper()
	p := &ingestPeer{settled: make(chan bool, 2), got: map[string][]*rtp.Packet{}, direct: map[string]int{}}
	demux := NewDemux()
	mux, err := hostmux.New(hostmux.Config{IPv4: true, Loopback: true,
		Keep: func(a netip.Addr) bool { return a.IsLoopback() },
		Tap: func(c *memudp.Conn) memudp.Tap {
			inner := demux.Tap(c)
			return func(b []byte, from netip.AddrPort) bool {
				p.mu.Lock()
				if len(b) > 12 && b[0]>>6 == 2 && b[1]&0x7f == 96 && len(p.replay) < 4096 {
					p.replay = append(p.replay, append([]byte(nil), b...))
					p.replays = func(b []byte) bool { return inner(b, from) }
				}
				p.mu.Unlock()
				return inner(b, from)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mux.Close() })
	se := loopbackSettings()
	se.SetICEUDPMux(mux)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	p.path = NewPath(mux, log, nil)
	p.recv = p.path.EnableReceive(demux, func(direct bool) { p.settled <- direct })
	p.path.Install(&se)
	ir := &interceptor.Registry{}
	ir.Add(p.path)
	for _, f := range receiveFactories(t) {
		ir.Add(f)
	}
	ir.Add(p.path.Top())
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		m.RegisterFeedback(webrtc.RTCPFeedback{Type: webrtc.TypeRTCPFBTransportCC}, kind)
		if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.TransportCCURI}, kind); err != nil {
			t.Fatal(err)
		}
	}
	api := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
	if p.pc, err = api.NewPeerConnection(webrtc.Configuration{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.path.StopReceive(); _ = p.pc.Close() })
	p.path.Attach(p.pc)
	for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		if _, err := p.pc.AddTransceiverFromKind(kind, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			t.Fatal(err)
		}
	}
	p.pc.OnTrack(p.onTrack)
	return p
}

func receiveFactories(t *testing.T) []interceptor.Factory {
	t.Helper()
	generator, err := nack.NewGeneratorInterceptor()
	if err != nil {
		t.Fatal(err)
	}
	rr, err := report.NewReceiverInterceptor(report.ReceiverInterval(100 * time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	fb, err := twcc.NewSenderInterceptor(twcc.SendInterval(50 * time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	return []interceptor.Factory{generator, rr, fb}
}

// onTrack reads the track through pion and takes it over, as the SFU's
// read loop does; the handler is serialised by the peer's lock.
func (p *ingestPeer) onTrack(track *webrtc.TrackRemote, receiver *webrtc.RTPReceiver) {
	kind := track.Kind().String()
	keep := func(pkt *rtp.Packet, direct bool) {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.got[kind] = append(p.got[kind], pkt)
		if direct {
			p.direct[kind]++
		}
	}
	p.recv.Take(uint32(track.SSRC()), uint8(track.PayloadType()), nil, func(pkt *rtp.Packet) { keep(pkt, true) })
	go func() {
		for {
			pkt, _, err := track.ReadRTP()
			if err != nil {
				return
			}
			keep(pkt, false)
		}
	}()
	go func() {
		for {
			pkts, _, err := receiver.ReadRTCP()
			if err != nil {
				return
			}
			for _, pkt := range pkts {
				if _, ok := pkt.(*rtcp.SenderReport); ok {
					p.mu.Lock()
					p.srtcp++
					p.mu.Unlock()
				}
			}
		}
	}()
}

func (p *ingestPeer) received(kind string) ([]*rtp.Packet, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*rtp.Packet(nil), p.got[kind]...), p.direct[kind]
}

// publisher is a plain pion client sending a video and an audio track,
// noting the RTCP it gets back.
type publisher struct {
	pc           *webrtc.PeerConnection
	video, audio *webrtc.TrackLocalStaticRTP
	senders      []*webrtc.RTPSender
	mu           sync.Mutex
	feedback     map[string]int    // RTCP packet types read
	highest      map[uint32]uint32 // extended highest sequence number reported, by SSRC
	nacked       map[uint16]bool
}

func newPublisher(t *testing.T, role webrtc.DTLSRole) *publisher {
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
	for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		m.RegisterFeedback(webrtc.RTCPFeedback{Type: webrtc.TypeRTCPFBTransportCC}, kind)
		if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.TransportCCURI}, kind); err != nil {
			t.Fatal(err)
		}
	}
	ir := &interceptor.Registry{}
	ext, err := twcc.NewHeaderExtensionInterceptor()
	if err != nil {
		t.Fatal(err)
	}
	ir.Add(ext)
	pc, err := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(se),
		webrtc.WithInterceptorRegistry(ir)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	p := &publisher{pc: pc, feedback: map[string]int{}, highest: map[uint32]uint32{}, nacked: map[uint16]bool{}}
	p.video, _ = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}, "video", "s")
	p.audio, _ = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus}, "audio", "s")
	for _, track := range []*webrtc.TrackLocalStaticRTP{p.video, p.audio} {
		sender, err := pc.AddTrack(track)
		if err != nil {
			t.Fatal(err)
		}
		p.senders = append(p.senders, sender)
		go p.readFeedback(sender)
	}
	return p
}

func (p *publisher) readFeedback(sender *webrtc.RTPSender) {
	for {
		pkts, _, err := sender.ReadRTCP()
		if err != nil {
			return
		}
		p.mu.Lock()
		for _, pkt := range pkts {
			p.note(pkt)
		}
		p.mu.Unlock()
	}
}

// note counts one RTCP packet; p.mu is held.
func (p *publisher) note(pkt rtcp.Packet) {
	switch pkt := pkt.(type) {
	case *rtcp.TransportLayerCC:
		p.feedback["twcc"]++
	case *rtcp.ReceiverReport:
		p.feedback["rr"]++
		for _, r := range pkt.Reports {
			p.highest[r.SSRC] = max(p.highest[r.SSRC], r.LastSequenceNumber)
		}
	case *rtcp.TransportLayerNack:
		p.feedback["nack"]++
		for _, n := range pkt.Nacks {
			for _, seq := range n.PacketList() {
				p.nacked[seq] = true
			}
		}
	}
}

func (p *publisher) reported(ssrc uint32) uint32 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.highest[ssrc]
}

func (p *publisher) wasNacked(seq uint16) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.nacked[seq]
}

func (p *publisher) ssrc(i int) uint32 {
	return uint32(p.senders[i].GetParameters().Encodings[0].SSRC)
}

func (p *publisher) count(what string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.feedback[what]
}

// offerTo runs offer and answer, the ingest side offering (as the SFU
// does) with every candidate in the SDP.
func offerTo(t *testing.T, s *ingestPeer, pub *publisher) {
	t.Helper()
	exchange(t, s.pc, pub.pc)
}

func exchange(t *testing.T, offerer, answerer *webrtc.PeerConnection) {
	t.Helper()
	offer, err := offerer.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(offerer)
	if err := offerer.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-gathered
	if err := answerer.SetRemoteDescription(*offerer.LocalDescription()); err != nil {
		t.Fatal(err)
	}
	answer, err := answerer.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered = webrtc.GatheringCompletePromise(answerer)
	if err := answerer.SetLocalDescription(answer); err != nil {
		t.Fatal(err)
	}
	<-gathered
	if err := offerer.SetRemoteDescription(*answerer.LocalDescription()); err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
