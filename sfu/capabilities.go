package sfu

import (
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/pion/sdp/v3"
)

// codecFormat is one codec of an SDP media section: its MIME type
// ("video/H264") and format parameters.
type codecFormat struct {
	mime string
	fmtp string
	pt   uint8 // its payload type in the description it came from
}

// matches reports whether f decodes a stream of mime with fmtp.
func (f codecFormat) matches(mime, fmtp string) bool {
	return strings.EqualFold(f.mime, mime) && sameCodec(mime, f.fmtp, fmtp)
}

// videoCapabilities is what a receiving client can decode: the video
// codecs of the capability SDP its connect carried (sora-js-sdk sends a
// throwaway offer), and the codecs it refused in answers since. Without a
// capability SDP (C++ and Python SDKs send none) every codec is assumed
// until an answer refuses it. It is safe for concurrent use.
type videoCapabilities struct {
	mu      sync.Mutex
	known   []codecFormat // nil: not described
	refused []codecFormat
}

// newVideoCapabilities reads the video codecs of a capability SDP; an
// empty one, or one without a video codec, describes nothing. A
// capability SDP that does not parse is an error.
func newVideoCapabilities(capability string) (*videoCapabilities, error) {
	v := &videoCapabilities{}
	if strings.TrimSpace(capability) == "" {
		return v, nil
	}
	var desc sdp.SessionDescription
	if err := desc.UnmarshalString(capability); err != nil {
		return nil, fmt.Errorf("capability sdp: %w", err)
	}
	for _, m := range desc.MediaDescriptions {
		if m.MediaName.Media == "video" {
			v.known = append(v.known, sectionCodecs(m)...)
		}
	}
	// No video codec at all describes nothing about video (an SDK that
	// fills the field with a stub): every codec is offered.
	return v, nil
}

// accepts reports whether the client can take a video stream of mime
// with fmtp.
func (v *videoCapabilities) accepts(mime, fmtp string) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, f := range v.refused {
		if f.matches(mime, fmtp) {
			return false
		}
	}
	if v.known == nil {
		return true
	}
	for _, f := range v.known {
		if f.matches(mime, fmtp) {
			return true
		}
	}
	return false
}

// refuse records that the client refused a stream of mime with fmtp.
func (v *videoCapabilities) refuse(mime, fmtp string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.refused = append(v.refused, codecFormat{mime: mime, fmtp: fmtp})
}

// sectionCodecs lists the codecs of a media section: each payload type
// of its format list that has an rtpmap, with its fmtp.
func sectionCodecs(m *sdp.MediaDescription) []codecFormat {
	names := map[string]string{}
	params := map[string]string{}
	for _, a := range m.Attributes {
		pt, rest, ok := strings.Cut(a.Value, " ")
		if !ok {
			continue
		}
		switch a.Key {
		case "rtpmap":
			name, _, _ := strings.Cut(strings.TrimSpace(rest), "/")
			names[pt] = name
		case "fmtp":
			params[pt] = strings.TrimSpace(rest)
		}
	}
	var out []codecFormat
	for _, pt := range m.MediaName.Formats {
		n, err := strconv.ParseUint(pt, 10, 7)
		if err != nil {
			continue
		}
		if name, ok := names[pt]; ok {
			out = append(out, codecFormat{mime: m.MediaName.Media + "/" + name, fmtp: params[pt], pt: uint8(n)})
		}
	}
	return out
}

// answerTakes reports whether an answer's media section accepts a stream
// of mime with fmtp: it is not rejected (port 0) and lists that codec.
func answerTakes(m *sdp.MediaDescription, mime, fmtp string) bool {
	return m.MediaName.Port.Value != 0 && listsCodec(m, mime, fmtp)
}
