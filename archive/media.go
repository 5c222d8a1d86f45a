package archive

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/kiroku-sfu/kiroku/mux"
)

// mediaOf describes a connection's codecs as Sora's JSON does.
func mediaOf(c Connection) Media {
	var m Media
	if c.Audio != nil {
		m.Audio, m.AudioCodecType = true, strings.ToUpper(string(c.Audio.Codec))
	}
	if c.Video == nil {
		return m
	}
	m.Video, m.VideoCodecType, m.VideoBitRate = true, string(c.Video.Codec), c.VideoBitRate
	p := fmtpParams(c.Video.Fmtp)
	switch c.Video.Codec {
	case mux.VP9:
		m.VideoVP9Params = intParam("profile_id", p["profile-id"])
	case mux.AV1:
		m.VideoAV1Params = intParam("profile", p["profile"])
	case mux.H264:
		if v, ok := p["profile-level-id"]; ok {
			m.VideoH264Param, _ = json.Marshal(map[string]string{"profile_level_id": v})
		}
	}
	return m
}

// fmtpParams parses "a=1;b=2" into a map; malformed parts are skipped.
func fmtpParams(fmtp string) map[string]string {
	out := map[string]string{}
	for _, part := range strings.Split(fmtp, ";") {
		if k, v, ok := strings.Cut(strings.TrimSpace(part), "="); ok {
			out[strings.ToLower(k)] = v
		}
	}
	return out
}

// intParam renders {"name": n}, with 0 when the value is absent or bad
// (the codecs' default profile).
func intParam(name, value string) json.RawMessage {
	n, err := strconv.Atoi(value)
	if err != nil || n < 0 {
		n = 0
	}
	b, _ := json.Marshal(map[string]int{name: n})
	return b
}
