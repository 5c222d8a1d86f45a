package loadgen

import (
	"fmt"
	"github.com/pion/transport/v5"
	"net"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"
)

// vp8 is the one video codec the load generator offers, with the feedback
// a browser negotiates (NACK, PLI, FIR, transport-wide congestion control)
// so the SFU does the per-packet work it does for a real client.
var vp8 = webrtc.RTPCodecParameters{
	RTPCodecCapability: webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeVP8, ClockRate: 90000,
		RTCPFeedback: []webrtc.RTCPFeedback{
			{Type: webrtc.TypeRTCPFBNACK},
			{Type: webrtc.TypeRTCPFBNACK, Parameter: "pli"},
			{Type: webrtc.TypeRTCPFBCCM, Parameter: "fir"},
			{Type: webrtc.TypeRTCPFBTransportCC},
		},
	},
	PayloadType: 96,
}

// opus is registered though the load generator sends no audio: a server
// may carry ICE and DTLS on an audio m-line (a viewer's placeholder), and a
// client that rejects every m-line cannot connect.
var opus = webrtc.RTPCodecParameters{
	RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2,
		SDPFmtpLine: "minptime=10;useinbandfec=1"},
	PayloadType: 111,
}

// newAPI builds a client's pion API. When localAddress is set, ICE
// gathers host candidates on that address only; network, when not nil,
// is where its sockets come from.
func newAPI(localAddress string, network transport.Net) (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterCodec(vp8, webrtc.RTPCodecTypeVideo); err != nil {
		return nil, fmt.Errorf("register vp8: %w", err)
	}
	if err := m.RegisterCodec(opus, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, fmt.Errorf("register opus: %w", err)
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
