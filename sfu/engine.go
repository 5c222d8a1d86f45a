package sfu

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/interceptor/pkg/report"
	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"github.com/kiroku-sfu/kiroku/sfu/srtpout"
)

// videoFeedback is the RTCP feedback every video codec announces: NACK for
// retransmission, PLI and FIR for keyframes, transport-cc for congestion
// control.
var videoFeedback = []webrtc.RTCPFeedback{
	{Type: webrtc.TypeRTCPFBNACK},
	{Type: webrtc.TypeRTCPFBNACK, Parameter: "pli"},
	{Type: webrtc.TypeRTCPFBCCM, Parameter: "fir"},
	{Type: webrtc.TypeRTCPFBTransportCC},
}

// videoCodec returns the single RTP codec a connection with codec c uses.
func videoCodec(c Codec) (webrtc.RTPCodecParameters, error) {
	p := webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{
		ClockRate: 90000, RTCPFeedback: videoFeedback,
	}}
	switch c {
	case VP8:
		p.MimeType, p.PayloadType = webrtc.MimeTypeVP8, 96
	case VP9:
		p.MimeType, p.PayloadType, p.SDPFmtpLine = webrtc.MimeTypeVP9, 98, "profile-id=0"
	case AV1:
		p.MimeType, p.PayloadType, p.SDPFmtpLine = webrtc.MimeTypeAV1, 45, "level-idx=5;profile=0;tier=0"
	case H264:
		p.MimeType, p.PayloadType = webrtc.MimeTypeH264, 102
		p.SDPFmtpLine = "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"
	case H265:
		p.MimeType, p.PayloadType = webrtc.MimeTypeH265, 49
		p.SDPFmtpLine = "level-id=93;profile-id=1;tier-flag=0;tx-mode=SRST"
	default:
		return p, fmt.Errorf("unknown video codec %q", c)
	}
	return p, nil
}

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

// engineKey selects the engine a connection is built with: its video
// codec and whether it receives media from its client at all.
type engineKey struct {
	codec Codec
	// viewOnly connections (recvonly) only send: they get no NACK
	// generator, no transport-wide congestion feedback and no receiver
	// reports, whose per-connection timers would wake the process ten
	// times a second for every viewer while having nothing to report.
	// Only the NACK responder is left.
	viewOnly bool
}

// engine is what every connection of one engineKey shares: the media
// engine (pion copies it per PeerConnection), the interceptor factories
// and the setting engine. Each connection gets its own webrtc.API from it,
// so that it holds its own NACK responder.
type engine struct {
	media     *webrtc.MediaEngine
	factories []interceptor.Factory // after the NACK responder, in order
	settings  webrtc.SettingEngine
	sockets   *srtpout.Sockets // the UDP mux's sockets; nil: no direct SRTP path
	now       func() time.Time
}

// connectionAPI is what one connection's PeerConnection is built with.
type connectionAPI struct {
	api  *webrtc.API
	nack *nackResponder
	path *srtpout.Path // nil when packets always take pion's write path
}

// newAPI returns a webrtc.API for one connection, with the NACK
// responder and the direct SRTP path its PeerConnection will use.
// settled, if not nil, learns which way the connection's RTP takes once
// its DTLS connects.
func (e *engine) newAPI(log *slog.Logger, settled func(direct bool)) connectionAPI {
	c := connectionAPI{nack: newNackResponder(e.now)}
	ir := &interceptor.Registry{}
	settings := e.settings // a copy: the DTLS hooks are this connection's
	if e.sockets != nil {
		// Right above pion's SRTP writer, below everything else: it
		// sends every RTP packet, retransmissions included.
		c.path = srtpout.NewPath(e.sockets, log, settled)
		c.path.Install(&settings)
		ir.Add(c.path)
	}
	// Next, so that retransmissions skip the other interceptors, as they
	// should.
	ir.Add(c.nack)
	for _, f := range e.factories {
		ir.Add(f)
	}
	c.api = webrtc.NewAPI(webrtc.WithMediaEngine(e.media), webrtc.WithInterceptorRegistry(ir),
		webrtc.WithSettingEngine(settings))
	return c
}

// newEngines builds one engine per video codec and role kind, sharing one
// setting engine and, with a direct SRTP path, the mux's sockets.
func newEngines(cfg *Config, se webrtc.SettingEngine, sockets *srtpout.Sockets) (map[engineKey]*engine, error) {
	engines := make(map[engineKey]*engine)
	if !cfg.DirectSRTP {
		sockets = nil
	}
	for _, c := range []Codec{VP8, VP9, AV1, H264, H265} {
		for _, viewOnly := range []bool{false, true} {
			e, err := newEngine(c, viewOnly, se, cfg.Now)
			if err != nil {
				return nil, fmt.Errorf("build %s engine: %w", c, err)
			}
			e.sockets = sockets
			engines[engineKey{codec: c, viewOnly: viewOnly}] = e
		}
	}
	return engines, nil
}

func newEngine(c Codec, viewOnly bool, se webrtc.SettingEngine, now func() time.Time) (*engine, error) {
	m := &webrtc.MediaEngine{}
	vc, err := videoCodec(c)
	if err != nil {
		return nil, err
	}
	if err := m.RegisterCodec(vc, webrtc.RTPCodecTypeVideo); err != nil {
		return nil, fmt.Errorf("register %s: %w", c, err)
	}
	// RTX: retransmissions travel on their own SSRC, both from publishers
	// (repaired before forwarding) and to viewers (NACK responses).
	rtx := webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeRTX, ClockRate: 90000,
			SDPFmtpLine: fmt.Sprintf("apt=%d", vc.PayloadType)},
		PayloadType: vc.PayloadType + 1,
	}
	if err := m.RegisterCodec(rtx, webrtc.RTPCodecTypeVideo); err != nil {
		return nil, fmt.Errorf("register %s rtx: %w", c, err)
	}
	if err := m.RegisterCodec(opusCodec(), webrtc.RTPCodecTypeAudio); err != nil {
		return nil, fmt.Errorf("register opus: %w", err)
	}
	// NACK (answered from the forwarded history) and PLI for video.
	m.RegisterFeedback(webrtc.RTCPFeedback{Type: webrtc.TypeRTCPFBNACK}, webrtc.RTPCodecTypeVideo)
	m.RegisterFeedback(webrtc.RTCPFeedback{Type: webrtc.TypeRTCPFBNACK, Parameter: "pli"}, webrtc.RTPCodecTypeVideo)
	e := &engine{media: m, settings: se, now: now}
	// No sender-report interceptor: forwarded streams get the publisher's
	// own reports (senderReports), which keep its audio and video in sync
	// for the viewer, and nothing per packet.
	if viewOnly {
		return e, nil
	}
	// A connection that may publish also asks for lost packets, reports
	// reception and gives the publisher transport-wide congestion
	// feedback for its estimator.
	generator, err := nack.NewGeneratorInterceptor()
	if err != nil {
		return nil, fmt.Errorf("configure nack: %w", err)
	}
	rr, err := report.NewReceiverInterceptor()
	if err != nil {
		return nil, fmt.Errorf("configure receiver reports: %w", err)
	}
	twccFeedback, err := twcc.NewSenderInterceptor()
	if err != nil {
		return nil, fmt.Errorf("configure twcc: %w", err)
	}
	for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		m.RegisterFeedback(webrtc.RTCPFeedback{Type: webrtc.TypeRTCPFBTransportCC}, kind)
		if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.TransportCCURI}, kind); err != nil {
			return nil, fmt.Errorf("register transport-cc extension: %w", err)
		}
	}
	// Simulcast: the client tags each layer's packets with its mid and
	// rid (and the rid a retransmission repairs).
	for _, uri := range []string{sdp.SDESMidURI, sdp.SDESRTPStreamIDURI, sdp.SDESRepairRTPStreamIDURI} {
		if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: uri}, webrtc.RTPCodecTypeVideo); err != nil {
			return nil, fmt.Errorf("register %s: %w", uri, err)
		}
	}
	e.factories = []interceptor.Factory{generator, rr, twccFeedback}
	return e, nil
}

// udpBufferBytes is the kernel buffer asked for, each way, on the shared
// media socket: it carries every connection's packets, so the default
// (about 200 KiB) would overflow in bursts. The kernel caps it at
// net.core.rmem_max / wmem_max.
const udpBufferBytes = 4 << 20

// newSettingEngine restricts ICE to the configured addresses and ports.
// With a UDP port configured, every connection shares one socket per local
// address on that port (the returned closer owns them, the returned
// Sockets knows them); otherwise each connection gets its own port from
// the range and the closer and Sockets are nil.
func newSettingEngine(cfg *Config) (webrtc.SettingEngine, io.Closer, *srtpout.Sockets, error) {
	var se webrtc.SettingEngine
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	types := []webrtc.NetworkType{webrtc.NetworkTypeUDP4}
	iceTypes := []ice.NetworkType{ice.NetworkTypeUDP4}
	if cfg.IPv6 {
		types = append(types, webrtc.NetworkTypeUDP6)
		iceTypes = append(iceTypes, ice.NetworkTypeUDP6)
	}
	se.SetNetworkTypes(types)
	se.SetIncludeLoopbackCandidate(cfg.ICELoopback)
	keep := func(net.IP) bool { return true }
	if cfg.ICEAddress != "" {
		want := net.ParseIP(cfg.ICEAddress)
		if isLocalAddress(want) {
			// Gather on that address only: the candidates name it and
			// media never leaves through another interface.
			keep = func(ip net.IP) bool { return ip.Equal(want) }
			se.SetIPFilter(keep)
		} else {
			// An address behind 1:1 NAT: gather locally, announce it instead.
			se.SetNAT1To1IPs([]string{cfg.ICEAddress}, webrtc.ICECandidateTypeHost)
		}
	}
	if cfg.UDPPort == 0 {
		if err := se.SetEphemeralUDPPortRange(cfg.UDPPortMin, cfg.UDPPortMax); err != nil {
			return se, nil, nil, fmt.Errorf("udp port range: %w", err)
		}
		return se, nil, nil, nil
	}
	sockets, err := srtpout.NewSockets()
	if err != nil {
		return se, nil, nil, err
	}
	opts := []ice.UDPMuxFromPortOption{
		ice.UDPMuxFromPortWithNet(sockets),
		ice.UDPMuxFromPortWithIPFilter(keep),
		ice.UDPMuxFromPortWithNetworks(iceTypes...),
		ice.UDPMuxFromPortWithReadBufferSize(udpBufferBytes),
		ice.UDPMuxFromPortWithWriteBufferSize(udpBufferBytes),
	}
	if cfg.ICELoopback || (cfg.ICEAddress != "" && net.ParseIP(cfg.ICEAddress).IsLoopback()) {
		opts = append(opts, ice.UDPMuxFromPortWithLoopback())
	}
	mux, err := ice.NewMultiUDPMuxFromPort(int(cfg.UDPPort), opts...)
	if err != nil {
		return se, nil, nil, fmt.Errorf("udp_port %d: %w", cfg.UDPPort, err)
	}
	if len(mux.GetListenAddresses()) == 0 {
		return se, nil, nil, errors.Join(fmt.Errorf("udp_port %d: no local address to listen on", cfg.UDPPort), mux.Close())
	}
	se.SetICEUDPMux(mux)
	return se, mux, sockets, nil
}

// isLocalAddress reports whether ip is assigned to a local interface.
func isLocalAddress(ip net.IP) bool {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
			return true
		}
	}
	return false
}
