package sfu

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// Every video codec stays negotiable.
//
// pion negotiates a PeerConnection's video codecs once, from the first
// answer with a video m-line, and from then on offers, binds and accepts
// only codecs of that answer (and of later answers' m-lines). A client's
// first video m-line offers one codec (its own upstream, or the first
// publisher it receives), so pion would never again offer it a publisher
// of another codec. Before pion sees an answer, each of its video
// sections therefore lists every video codec of the SFU besides those the
// client chose. This changes nothing on the wire: the client still sends
// its own codec on its upstream, and what each forwarding m-line carries
// is decided by the offer (offerCodec) and checked against the client's
// real answer (refusal.go).

// withEveryVideoCodec returns the answer with every SFU video codec, and
// with rtx its RTX, added to each live video section that lacks it.
// Payload types the client's section already uses are left alone. A
// client without RTX (pion's default engine, some native stacks) must not
// be made to look like it has it: pion would answer its NACKs on an RTX
// stream the client drops, and it would ask again and again.
func withEveryVideoCodec(answer string, rtx bool) (string, error) {
	var desc sdp.SessionDescription
	if err := desc.UnmarshalString(answer); err != nil {
		return "", fmt.Errorf("parse answer: %w", err)
	}
	changed := false
	for _, m := range desc.MediaDescriptions {
		if m.MediaName.Media != "video" || m.MediaName.Port.Value == 0 {
			continue
		}
		for _, c := range videoCodecs {
			vc, err := videoCodec(c)
			if err != nil {
				return "", err
			}
			changed = addCodec(m, vc) || changed
			if rtx {
				changed = addCodec(m, rtxCodec(vc)) || changed
			}
		}
	}
	if !changed {
		return answer, nil
	}
	out, err := desc.Marshal()
	if err != nil {
		return "", fmt.Errorf("write answer: %w", err)
	}
	return string(out), nil
}

// answerRTX reports whether any live video section of an answer lists an
// rtx format (has), and whether the answer has a live video section at
// all (known). An unreadable answer tells nothing (pion refuses it next).
func answerRTX(answer string) (has, known bool) {
	var desc sdp.SessionDescription
	if err := desc.UnmarshalString(answer); err != nil {
		return false, false
	}
	for _, m := range desc.MediaDescriptions {
		if m.MediaName.Media != "video" || m.MediaName.Port.Value == 0 {
			continue
		}
		known = true
		for _, f := range sectionCodecs(m) {
			if strings.EqualFold(f.mime, "video/rtx") {
				return true, true
			}
		}
	}
	return false, known
}

// addCodec adds codec p to a media section unless its payload type is
// already there; it reports whether it added it.
func addCodec(m *sdp.MediaDescription, p webrtc.RTPCodecParameters) bool {
	pt := strconv.Itoa(int(p.PayloadType))
	if slices.Contains(m.MediaName.Formats, pt) {
		return false
	}
	m.MediaName.Formats = append(m.MediaName.Formats, pt)
	name := p.MimeType[len("video/"):]
	m.WithValueAttribute("rtpmap", fmt.Sprintf("%s %s/%d", pt, name, p.ClockRate))
	if p.SDPFmtpLine != "" {
		m.WithValueAttribute("fmtp", pt+" "+p.SDPFmtpLine)
	}
	for _, fb := range p.RTCPFeedback {
		v := pt + " " + fb.Type
		if fb.Parameter != "" {
			v += " " + fb.Parameter
		}
		m.WithValueAttribute("rtcp-fb", v)
	}
	return true
}
