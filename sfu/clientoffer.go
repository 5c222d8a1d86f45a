package sfu

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// Client offers (WHIP, WHEP): the client sends the offer and the server
// answers, once. Such a connection is never renegotiated: a publisher has
// nothing forwarded to it, a following connection changes sources on the
// tracks it has.

// Answer applies the client's offer the connection joined with
// (JoinRequest.ClientOffer) and returns the answer, with every server ICE
// candidate inside. The offer's simulcast is not taken: the client sends
// one stream. It may be called once.
func (c *Connection) Answer(ctx context.Context) (string, error) {
	offer := c.clientOffer
	c.mu.Lock()
	if offer == "" || c.answered || c.outstanding {
		c.mu.Unlock()
		return "", fmt.Errorf("answer: %w: not a client-offer connection, or answered already", ErrInvalid)
	}
	c.outstanding = true
	c.mu.Unlock()
	offer, err := withoutSimulcast(offer)
	if err != nil {
		return "", err
	}
	if err := c.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return "", c.closedOr(fmt.Errorf("set remote offer: %w", err))
	}
	answer, err := c.pc.CreateAnswer(nil)
	if err != nil {
		return "", c.closedOr(fmt.Errorf("create answer: %w", err))
	}
	gathered := webrtc.GatheringCompletePromise(c.pc)
	if err := c.pc.SetLocalDescription(answer); err != nil {
		return "", c.closedOr(fmt.Errorf("set local answer: %w", err))
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return "", fmt.Errorf("gather candidates: %w", ctx.Err())
	}
	c.mu.Lock()
	c.answered, c.outstanding = true, false
	c.mu.Unlock()
	if c.follow != nil {
		c.startFollowing()
	}
	return c.pc.LocalDescription().SDP, nil
}

// closedOr returns ErrClosed when the connection ended meanwhile, else err.
func (c *Connection) closedOr(err error) error {
	if c.ctx.Err() != nil || errors.Is(err, webrtc.ErrConnectionClosed) {
		return fmt.Errorf("%w: %w", ErrClosed, err)
	}
	return fmt.Errorf("%w: %w", ErrInvalid, err)
}

// withoutSimulcast drops the simulcast and rid lines of an offer: a
// client-offer publisher is answered for one stream per m-line.
func withoutSimulcast(offer string) (string, error) {
	var d sdp.SessionDescription
	if err := d.UnmarshalString(offer); err != nil {
		return "", fmt.Errorf("%w: parse offer: %w", ErrInvalid, err)
	}
	changed := false
	for _, m := range d.MediaDescriptions {
		before := len(m.Attributes)
		m.Attributes = withoutAttributes(m.Attributes, "simulcast", "rid")
		changed = changed || len(m.Attributes) != before
	}
	if !changed {
		return offer, nil
	}
	out, err := d.Marshal()
	if err != nil {
		return "", fmt.Errorf("write offer: %w", err)
	}
	return string(out), nil
}

// OfferSummary is what a client's offer asks to send or receive.
type OfferSummary struct {
	// Audio and Video: the offer has an m-line of that kind.
	Audio, Video bool
	// Sends: every audio and video m-line sends (sendonly or sendrecv);
	// Receives: every one receives (recvonly or sendrecv).
	Sends, Receives bool
	// VideoCodecs are the offer's video codecs the SFU has, in the
	// client's order of preference, each once.
	VideoCodecs []Codec
}

// DescribeOffer reads a client's offer. It fails with ErrInvalid when the
// offer is not SDP, has no audio or video m-line, or more than one of a
// kind: a connection carries one audio and one video.
func DescribeOffer(offer string) (OfferSummary, error) {
	var d sdp.SessionDescription
	if err := d.UnmarshalString(offer); err != nil {
		return OfferSummary{}, fmt.Errorf("%w: parse offer: %w", ErrInvalid, err)
	}
	sum := OfferSummary{Sends: true, Receives: true}
	for _, m := range d.MediaDescriptions {
		kind := m.MediaName.Media
		if kind != "audio" && kind != "video" {
			continue
		}
		if (kind == "audio" && sum.Audio) || (kind == "video" && sum.Video) {
			return OfferSummary{}, fmt.Errorf("%w: more than one %s m-line", ErrInvalid, kind)
		}
		if kind == "audio" {
			sum.Audio = true
		} else {
			sum.Video = true
			sum.VideoCodecs = offeredCodecs(m)
		}
		dir := sectionDirection(m)
		sum.Sends = sum.Sends && (dir == "sendonly" || dir == "sendrecv")
		sum.Receives = sum.Receives && (dir == "recvonly" || dir == "sendrecv")
	}
	if !sum.Audio && !sum.Video {
		return OfferSummary{}, fmt.Errorf("%w: no audio or video m-line", ErrInvalid)
	}
	return sum, nil
}

// offeredCodecs lists a video section's codecs the SFU has, once each.
func offeredCodecs(m *sdp.MediaDescription) []Codec {
	var out []Codec
	for _, f := range sectionCodecs(m) {
		if c, _, ok := codecByMime(f.mime); ok && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// sectionDirection is a media section's direction attribute; sendrecv
// when it has none.
func sectionDirection(m *sdp.MediaDescription) string {
	for _, a := range m.Attributes {
		if slices.Contains(directionAttributes, a.Key) {
			return a.Key
		}
	}
	return "sendrecv"
}

// offeredPreference is what the answer takes on the client's video
// m-line: the first of the offer's formats of codec (for H.264 one with
// packetization-mode 1 if there is one), with the client's payload type
// and parameters, and its RTX.
func offeredPreference(offer string, codec Codec) ([]webrtc.RTPCodecParameters, error) {
	var d sdp.SessionDescription
	if err := d.UnmarshalString(offer); err != nil {
		return nil, fmt.Errorf("%w: parse offer: %w", ErrInvalid, err)
	}
	for _, m := range d.MediaDescriptions {
		if m.MediaName.Media != "video" {
			continue
		}
		formats := sectionCodecs(m)
		f, ok := pickFormat(formats, codec)
		if !ok {
			return nil, fmt.Errorf("%w: the offer has no %s", ErrInvalid, codec)
		}
		_, own, _ := codecByMime(f.mime)
		vc := webrtc.RTPCodecParameters{PayloadType: webrtc.PayloadType(f.pt), RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: own.MimeType, ClockRate: 90000, SDPFmtpLine: f.fmtp, RTCPFeedback: videoFeedback}}
		out := []webrtc.RTPCodecParameters{vc}
		for _, r := range formats {
			if strings.EqualFold(r.mime, "video/rtx") && fmtpParams(r.fmtp)["apt"] == strconv.Itoa(int(f.pt)) {
				out = append(out, webrtc.RTPCodecParameters{PayloadType: webrtc.PayloadType(r.pt),
					RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeRTX, ClockRate: 90000, SDPFmtpLine: r.fmtp}})
				break
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: the offer has no video m-line", ErrInvalid)
}

// pickFormat returns the first format of codec, preferring H.264 in
// packetization mode 1.
func pickFormat(formats []codecFormat, codec Codec) (codecFormat, bool) {
	var first *codecFormat
	for i, f := range formats {
		c, _, ok := codecByMime(f.mime)
		if !ok || c != codec {
			continue
		}
		if codec != H264 || fmtpParams(f.fmtp)["packetization-mode"] == "1" {
			return f, true
		}
		if first == nil {
			first = &formats[i]
		}
	}
	if first != nil {
		return *first, true
	}
	return codecFormat{}, false
}
