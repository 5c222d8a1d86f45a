package sfu

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/report"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"github.com/kiroku-sfu/kiroku/sfu/hostmux"
	"github.com/kiroku-sfu/kiroku/sfu/srtpout"
)

func opusCodec() webrtc.RTPCodecParameters {
	return webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2,
			SDPFmtpLine:  "minptime=10;useinbandfec=1",
			RTCPFeedback: []webrtc.RTCPFeedback{{Type: webrtc.TypeRTCPFBTransportCC}},
		},
		PayloadType: 111,
	}
}

// engine is what every connection of one kind shares: the media engine
// (pion copies it per PeerConnection) with every video codec, the
// interceptor factories and the setting engine. Each connection gets its own webrtc.API from it,
// so that it holds its own NACK responder.
type engine struct {
	media     *webrtc.MediaEngine
	factories []interceptor.Factory // after the NACK responder, in order
	settings  webrtc.SettingEngine
	sockets   srtpout.Sockets // the UDP mux's sockets; nil: no direct SRTP path
	demux     *srtpout.Demux  // routes the sockets' datagrams; nil: no direct receive path
	now       func() time.Time
	viewOnly  bool
}

// connectionAPI is what one connection's PeerConnection is built with.
type connectionAPI struct {
	api  *webrtc.API
	nack *nackResponder
	path *srtpout.Path // nil when packets always take pion's write path
}

// newAPI returns a webrtc.API for one connection, with the NACK
// responder and the direct SRTP path its PeerConnection will use.
// counts learns which ways the connection's RTP takes once its DTLS
// connects, and its retransmissions.
func (e *engine) newAPI(log *slog.Logger, counts *counters) connectionAPI {
	c := connectionAPI{nack: newNackResponder(e.now, &counts.retransmitted)}
	ir := &interceptor.Registry{}
	settings := e.settings // a copy: the DTLS hooks are this connection's
	if e.sockets != nil {
		// Right above pion's SRTP writer, below everything else: it
		// sends every RTP packet, retransmissions included (and is the
		// bottom of every received stream's chain).
		c.path = srtpout.NewPath(e.sockets, log, counts.srtpSettled)
		c.path.Install(&settings)
		if e.demux != nil && !e.viewOnly {
			c.path.EnableReceive(e.demux, counts.receiveSettled)
		}
		ir.Add(c.path)
	}
	// Next, so that retransmissions skip the other interceptors, as they
	// should.
	ir.Add(c.nack)
	for _, f := range e.factories {
		ir.Add(f)
	}
	if c.path != nil && c.path.Receiver() != nil {
		// Last: the direct receive path pulls each packet through every
		// interceptor above.
		ir.Add(c.path.Top())
	}
	c.api = webrtc.NewAPI(webrtc.WithMediaEngine(e.media), webrtc.WithInterceptorRegistry(ir),
		webrtc.WithSettingEngine(settings))
	return c
}

// engines are the two kinds of connection the SFU builds.
type engines struct {
	// publishing connections (sendrecv, sendonly) read media too.
	publishing *engine
	// viewOnly connections (recvonly) only send: they get no NACK
	// generator, no transport-wide congestion feedback and no receiver
	// reports, whose per-connection timers would wake the process ten
	// times a second for every viewer while having nothing to report.
	// Only the NACK responder is left.
	viewOnly *engine
}

// forRole returns the engine of connections with role r.
func (e engines) forRole(r Role) *engine {
	if r == RecvOnly {
		return e.viewOnly
	}
	return e.publishing
}

// newEngines builds both kinds of engine, sharing one setting engine
// and, with a direct SRTP path, the mux's sockets.
func newEngines(cfg *Config, se webrtc.SettingEngine, sockets srtpout.Sockets, demux *srtpout.Demux) (engines, error) {
	if !cfg.DirectSRTP {
		sockets = nil
	}
	if sockets == nil {
		demux = nil
	}
	var out engines
	feedback := newFeedbackTicker(feedbackInterval)
	for _, viewOnly := range []bool{false, true} {
		e, err := newEngine(viewOnly, se, cfg.Now, feedback)
		if err != nil {
			return out, fmt.Errorf("build engine: %w", err)
		}
		e.sockets, e.demux = sockets, demux
		if viewOnly {
			out.viewOnly = e
		} else {
			out.publishing = e
		}
	}
	return out, nil
}

func newEngine(viewOnly bool, se webrtc.SettingEngine, now func() time.Time, feedback *feedbackTicker) (*engine, error) {
	var videos []webrtc.RTPCodecParameters
	for _, c := range videoCodecs {
		vc, err := videoCodec(c)
		if err != nil {
			return nil, err
		}
		// RTX: retransmissions travel on their own SSRC, both from
		// publishers (repaired before forwarding) and to viewers (NACK
		// responses).
		videos = append(videos, vc, rtxCodec(vc))
	}
	m, err := newMediaEngine(videos, viewOnly)
	if err != nil {
		return nil, err
	}
	e := &engine{media: m, settings: se, now: now, viewOnly: viewOnly}
	// No sender-report interceptor: forwarded streams get the publisher's
	// own reports (senderReports), which keep its audio and video in sync
	// for the viewer, and nothing per packet.
	if viewOnly {
		return e, nil
	}
	// A connection that may publish also asks for lost packets, reports
	// reception and gives the publisher transport-wide congestion
	// feedback for its estimator.
	rr, err := report.NewReceiverInterceptor()
	if err != nil {
		return nil, fmt.Errorf("configure receiver reports: %w", err)
	}
	// Arrival times are the network's: the wall clock, whatever clock
	// the SFU's logic runs on.
	e.factories = []interceptor.Factory{nackFeedbackFactory{ticker: feedback}, rr,
		twccFeedbackFactory{ticker: feedback, now: time.Now}}
	return e, nil
}

// newMediaEngine registers videos (each codec followed by its RTX) and
// Opus, with the feedback and header extensions a connection of the kind
// uses.
func newMediaEngine(videos []webrtc.RTPCodecParameters, viewOnly bool) (*webrtc.MediaEngine, error) {
	m := &webrtc.MediaEngine{}
	for _, vc := range videos {
		if err := m.RegisterCodec(vc, webrtc.RTPCodecTypeVideo); err != nil {
			return nil, fmt.Errorf("register %s %d: %w", vc.MimeType, vc.PayloadType, err)
		}
	}
	if err := m.RegisterCodec(opusCodec(), webrtc.RTPCodecTypeAudio); err != nil {
		return nil, fmt.Errorf("register opus: %w", err)
	}
	// NACK (answered from the forwarded history) and PLI for video.
	m.RegisterFeedback(webrtc.RTCPFeedback{Type: webrtc.TypeRTCPFBNACK}, webrtc.RTPCodecTypeVideo)
	m.RegisterFeedback(webrtc.RTCPFeedback{Type: webrtc.TypeRTCPFBNACK, Parameter: "pli"}, webrtc.RTPCodecTypeVideo)
	if viewOnly {
		return m, nil
	}
	for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		m.RegisterFeedback(webrtc.RTCPFeedback{Type: webrtc.TypeRTCPFBTransportCC}, kind)
		if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.TransportCCURI}, kind); err != nil {
			return nil, fmt.Errorf("register transport-cc extension: %w", err)
		}
	}
	// Spotlight's voice activity: the level of each audio packet.
	if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: AudioLevelURI}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, fmt.Errorf("register audio level extension: %w", err)
	}
	// Simulcast: the client tags each layer's packets with its mid and
	// rid (and the rid a retransmission repairs).
	for _, uri := range []string{sdp.SDESMidURI, sdp.SDESRTPStreamIDURI, sdp.SDESRepairRTPStreamIDURI} {
		if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: uri}, webrtc.RTPCodecTypeVideo); err != nil {
			return nil, fmt.Errorf("register %s: %w", uri, err)
		}
	}
	return m, nil
}

// withVideo returns the engine with videos as its only video codecs: a
// publisher that offers is answered in exactly the format it offered.
func (e *engine) withVideo(videos []webrtc.RTPCodecParameters) (*engine, error) {
	m, err := newMediaEngine(videos, e.viewOnly)
	if err != nil {
		return nil, err
	}
	out := *e
	out.media = m
	return &out, nil
}

// udpBufferBytes is the kernel buffer asked for, each way, on the shared
// media socket: it carries every connection's packets, so the default
// (about 200 KiB) would overflow in bursts. The kernel caps it at
// net.core.rmem_max / wmem_max.
const udpBufferBytes = 4 << 20

// newSettingEngine restricts ICE to the configured families, addresses
// and ports (announce.go). With a UDP port configured, every connection
// shares one socket per local address on that port: the returned mux owns
// them (the closer) and finds them for the direct SRTP path; addresses
// that cannot be bound yet are picked up later. Otherwise each connection
// gets its own port from the range and the closer and Sockets are nil.
func newSettingEngine(cfg *Config, demux *srtpout.Demux) (webrtc.SettingEngine, io.Closer, srtpout.Sockets, error) {
	var se webrtc.SettingEngine
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	types := []webrtc.NetworkType{webrtc.NetworkTypeUDP4}
	if cfg.IPv6 {
		types = append(types, webrtc.NetworkTypeUDP6)
	}
	se.SetNetworkTypes(types)
	se.SetIncludeLoopbackCandidate(cfg.ICELoopback)
	plan := newAnnouncement(cfg)
	if len(plan.external) > 0 {
		se.SetNAT1To1IPs(plan.external, webrtc.ICECandidateTypeHost)
	}
	if cfg.UDPPort == 0 {
		se.SetIPFilter(func(ip net.IP) bool {
			a, ok := netip.AddrFromSlice(ip)
			return ok && plan.keep(a.Unmap())
		})
		if err := se.SetEphemeralUDPPortRange(cfg.UDPPortMin, cfg.UDPPortMax); err != nil {
			return se, nil, nil, fmt.Errorf("udp port range: %w", err)
		}
		return se, nil, nil, nil
	}
	hc := hostmux.Config{
		Port: cfg.UDPPort, IPv4: true, IPv6: cfg.IPv6, Pinned: plan.pinned(),
		Loopback: cfg.ICELoopback || plan.loopback, BufferBytes: udpBufferBytes,
		Logger: cfg.Logger, Switch: cfg.LocalUDP,
		Coalesce: cfg.UDPReceiveCoalesce,
	}
	if demux != nil {
		hc.Tap = demux.Tap
	}
	mux, err := hostmux.New(hc)
	if err != nil {
		return se, nil, nil, fmt.Errorf("udp_port %d: %w", cfg.UDPPort, err)
	}
	se.SetICEUDPMux(mux)
	return se, mux, mux, nil
}
