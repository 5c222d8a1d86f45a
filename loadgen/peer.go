package loadgen

import (
	"fmt"
	"github.com/pion/transport/v5"
	"net"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"
)

// videoFeedback is the feedback a browser negotiates for video (NACK,
// PLI, FIR, transport-wide congestion control), so the SFU does the
// per-packet work it does for a real client.
var videoFeedback = []webrtc.RTCPFeedback{
	{Type: webrtc.TypeRTCPFBNACK},
	{Type: webrtc.TypeRTCPFBNACK, Parameter: "pli"},
	{Type: webrtc.TypeRTCPFBCCM, Parameter: "fir"},
	{Type: webrtc.TypeRTCPFBTransportCC},
}

// videoCodecs are the video codecs a client knows, by Sora's codec_type,
// with the payload types and parameters Chromium uses for them; it
// decodes them all and publishes the one it is configured with.
var videoCodecs = map[string]webrtc.RTPCodecParameters{
	"VP8": {RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000,
		RTCPFeedback: videoFeedback}, PayloadType: 96},
	"VP9": {RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP9, ClockRate: 90000,
		SDPFmtpLine: "profile-id=0", RTCPFeedback: videoFeedback}, PayloadType: 98},
	"AV1": {RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeAV1, ClockRate: 90000,
		SDPFmtpLine: "level-idx=5;profile=0;tier=0", RTCPFeedback: videoFeedback}, PayloadType: 45},
	"H264": {RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
		SDPFmtpLine:  "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
		RTCPFeedback: videoFeedback}, PayloadType: 102},
	"H265": {RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH265, ClockRate: 90000,
		SDPFmtpLine: "level-id=93;profile-id=1;tier-flag=0;tx-mode=SRST", RTCPFeedback: videoFeedback}, PayloadType: 49},
}

// vp8 is the default video codec.
var vp8 = videoCodecs["VP8"]

// opus is the audio codec: a publisher may send audio, and a server may
// carry ICE and DTLS on an audio m-line (a viewer's placeholder), which a
// client must not reject.
var opus = webrtc.RTPCodecParameters{
	RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2,
		SDPFmtpLine: "minptime=10;useinbandfec=1"},
	PayloadType: 111,
}

// NewPeerAPI is the pion API a load generator client uses (the codecs,
// feedback and interceptors of a browser), with ICE on localAddress
// only when it is set: for a client of another signaling protocol that
// should send what a load generator client sends.
func NewPeerAPI(localAddress string) (*webrtc.API, error) {
	api, err := newAPI(localAddress, nil, false)
	if err != nil {
		return nil, fmt.Errorf("loadgen: %w", err)
	}
	return api, nil
}

// newAPI builds a client's pion API. When localAddress is set, ICE
// gathers host candidates on that address only; network, when not nil,
// is where its sockets come from; layered adds the mid and rid header
// extensions a simulcast publisher tags its layers with.
func newAPI(localAddress string, network transport.Net, layered bool) (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	for _, name := range []string{"VP8", "VP9", "AV1", "H264", "H265"} {
		if err := m.RegisterCodec(videoCodecs[name], webrtc.RTPCodecTypeVideo); err != nil {
			return nil, fmt.Errorf("register %s: %w", name, err)
		}
	}
	if err := m.RegisterCodec(opus, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, fmt.Errorf("register opus: %w", err)
	}
	if layered {
		if err := webrtc.ConfigureSimulcastExtensionHeaders(m); err != nil {
			return nil, fmt.Errorf("configure simulcast header extensions: %w", err)
		}
	}
	ir := &interceptor.Registry{}
	if err := webrtc.ConfigureNack(m, ir); err != nil {
		return nil, fmt.Errorf("configure nack: %w", err)
	}
	if err := webrtc.ConfigureRTCPReports(ir); err != nil {
		return nil, fmt.Errorf("configure rtcp reports: %w", err)
	}
	if err := webrtc.ConfigureTWCCSender(m, ir); err != nil {
		return nil, fmt.Errorf("configure twcc: %w", err)
	}
	var se webrtc.SettingEngine
	if network != nil {
		se.SetNet(network)
	}
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	if localAddress != "" {
		want := net.ParseIP(localAddress)
		if want == nil || want.To4() == nil {
			return nil, fmt.Errorf("local address %q is not an IPv4 address", localAddress)
		}
		se.SetIncludeLoopbackCandidate(want.IsLoopback())
		se.SetIPFilter(func(ip net.IP) bool { return ip.Equal(want) })
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir),
		webrtc.WithSettingEngine(se)), nil
}
