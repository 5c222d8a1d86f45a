package sfu

import (
	"fmt"
	"strings"

	"github.com/pion/webrtc/v4"
)

// Video codecs in mixed rooms.
//
// Every connection's PeerConnection knows all five video codecs, each
// with its own payload type, so that a channel can mix them: what a
// connection sends is its own codec_type (the only codec offered on its
// upstream video m-line), and each m-line that forwards a publisher's
// video offers that publisher's codec, with the parameters the publisher
// negotiated. A receiver that cannot decode a publisher's codec has that
// one stream refused (refusal.go); everything else still flows.

// videoCodecs are the video codecs the SFU negotiates, with their payload
// types; each has an RTX payload type one above its own.
var videoCodecs = []Codec{VP8, VP9, AV1, H264, H265}

// videoFeedback is the RTCP feedback every video codec announces: NACK for
// retransmission, PLI and FIR for keyframes, transport-cc for congestion
// control.
var videoFeedback = []webrtc.RTCPFeedback{
	{Type: webrtc.TypeRTCPFBNACK},
	{Type: webrtc.TypeRTCPFBNACK, Parameter: "pli"},
	{Type: webrtc.TypeRTCPFBCCM, Parameter: "fir"},
	{Type: webrtc.TypeRTCPFBTransportCC},
}

// videoCodec returns the RTP codec the SFU offers for c.
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

// rtxCodec is the retransmission payload type of video codec vc.
func rtxCodec(vc webrtc.RTPCodecParameters) webrtc.RTPCodecParameters {
	return webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeRTX, ClockRate: 90000,
			SDPFmtpLine: fmt.Sprintf("apt=%d", vc.PayloadType)},
		PayloadType: vc.PayloadType + 1,
	}
}

// codecByMime returns the SFU's codec with a MIME type ("video/VP8").
func codecByMime(mime string) (Codec, webrtc.RTPCodecParameters, bool) {
	for _, c := range videoCodecs {
		vc, err := videoCodec(c)
		if err == nil && strings.EqualFold(vc.MimeType, mime) {
			return c, vc, true
		}
	}
	return "", webrtc.RTPCodecParameters{}, false
}

// upstreamPreference is what the client's upstream video m-line offers:
// its own codec_type and that codec's RTX, nothing else.
func upstreamPreference(c Codec) ([]webrtc.RTPCodecParameters, error) {
	vc, err := videoCodec(c)
	if err != nil {
		return nil, err
	}
	return []webrtc.RTPCodecParameters{vc, rtxCodec(vc)}, nil
}

// forwardPreference is what an m-line forwarding a publisher's video
// offers: the publisher's codec with the parameters it negotiated (the
// SFU's payload type and feedback) and its RTX. ok is false for a codec
// the SFU does not forward as video.
func forwardPreference(publisher webrtc.RTPCodecCapability) ([]webrtc.RTPCodecParameters, bool) {
	_, vc, ok := codecByMime(publisher.MimeType)
	if !ok {
		return nil, false
	}
	offered := vc
	if publisher.SDPFmtpLine != "" && sameCodec(vc.MimeType, vc.SDPFmtpLine, publisher.SDPFmtpLine) {
		offered.SDPFmtpLine = publisher.SDPFmtpLine
	}
	return []webrtc.RTPCodecParameters{offered, rtxCodec(vc)}, true
}

// sameCodec reports whether two format parameter lines of one MIME type
// describe a stream one decoder takes: the same H.264 profile and
// packetization mode, VP9 or H.265 profile, AV1 profile. Levels and other
// parameters do not matter (a decoder of a higher level decodes lower
// ones; pion and browsers match the same way).
func sameCodec(mime, a, b string) bool {
	pa, pb := fmtpParams(a), fmtpParams(b)
	switch strings.ToLower(mime) {
	case strings.ToLower(webrtc.MimeTypeH264):
		return h264Profile(pa) == h264Profile(pb) &&
			orDefault(pa["packetization-mode"], "0") == orDefault(pb["packetization-mode"], "0")
	case strings.ToLower(webrtc.MimeTypeVP9):
		return orDefault(pa["profile-id"], "0") == orDefault(pb["profile-id"], "0")
	case strings.ToLower(webrtc.MimeTypeAV1):
		return orDefault(pa["profile"], "0") == orDefault(pb["profile"], "0")
	case strings.ToLower(webrtc.MimeTypeH265):
		return orDefault(pa["profile-id"], "1") == orDefault(pb["profile-id"], "1")
	}
	return true
}

// h264Profile is the profile_idc of a profile-level-id (its first byte,
// in hex); the default is constrained baseline's 42, as RFC 6184 says.
func h264Profile(p map[string]string) string {
	if v := p["profile-level-id"]; len(v) == 6 {
		return strings.ToLower(v[:2])
	}
	return "42"
}

// fmtpParams splits a format parameter line ("a=1;b=2") into its keys,
// lower-cased, and values.
func fmtpParams(fmtp string) map[string]string {
	out := map[string]string{}
	for _, part := range strings.Split(fmtp, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		if k != "" {
			out[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
		}
	}
	return out
}
