package signaling

import (
	"encoding/json"
	"testing"

	"github.com/kiroku-sfu/kiroku/webhooks"
)

// TestParseMediaSettings checks the audio and video options a connect
// may carry: bit rates within Sora's ranges, parameter objects.
func TestParseMediaSettings(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		code     int
		want     MediaSettings
	}{
		{name: "bit rates and params", in: `{"role":"sendonly","channel_id":"c","audio":{"bit_rate":32,"opus_params":{"stereo":true}},"video":{"codec_type":"AV1","bit_rate":2500,"av1_params":{"profile":0}}}`,
			want: MediaSettings{AudioBitRate: 32, AudioOpusParams: []byte(`{"stereo":true}`), VideoBitRate: 2500, VideoAV1Params: []byte(`{"profile":0}`)}},
		{name: "null params", in: `{"role":"sendonly","channel_id":"c","video":{"vp9_params":null}}`},
		{name: "video bit rate too high", in: `{"role":"sendonly","channel_id":"c","video":{"bit_rate":50001}}`, code: codeInvalidParam},
		{name: "video bit rate zero", in: `{"role":"sendonly","channel_id":"c","video":{"bit_rate":0}}`, code: codeInvalidParam},
		{name: "audio bit rate too low", in: `{"role":"sendonly","channel_id":"c","audio":{"bit_rate":5}}`, code: codeInvalidParam},
		{name: "params not an object", in: `{"role":"sendonly","channel_id":"c","video":{"h264_params":3}}`, code: codeInvalidParam},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, rej := parseConnect([]byte(tc.in), "")
			if tc.code != 0 {
				if rej == nil || rej.code != tc.code {
					t.Fatalf("rejection %v, want code %d", rej, tc.code)
				}
				return
			}
			if rej != nil {
				t.Fatalf("rejected: %v", rej)
			}
			if got := mustJSON(req.media); got != mustJSON(tc.want) {
				t.Errorf("media %s, want %s", got, mustJSON(tc.want))
			}
		})
	}
}

// TestParseSoraClient checks how sora_client strings are taken apart.
func TestParseSoraClient(t *testing.T) {
	for _, tc := range []struct{ raw, typ, version, commit string }{
		{"Sora JavaScript SDK 2026.1.0", "Sora JavaScript SDK", "2026.1.0", ""},
		{"Sora C++ SDK 2025.3.1 (a1b2c3d4)", "Sora C++ SDK", "2025.3.1", "a1b2c3d4"},
		{"test", "test", "", ""},
		{"", "", "", ""},
	} {
		c := parseSoraClient(tc.raw, "", "")
		str := func(p *string) string {
			if p == nil {
				return ""
			}
			return *p
		}
		if str(c.Type) != tc.typ || str(c.Version) != tc.version || str(c.CommitShort) != tc.commit || str(c.Raw) != tc.raw {
			t.Errorf("%q: %s", tc.raw, mustJSON(c))
		}
	}
}

// TestAuthReplyOverrides checks which reply values are refused.
func TestAuthReplyOverrides(t *testing.T) {
	for _, tc := range []struct {
		name, reply string
		ok          bool
	}{
		{"video object", `{"allowed":true,"video":{"codec_type":"H265","bit_rate":900}}`, true},
		{"audio codec not opus", `{"allowed":true,"audio_codec_type":"PCMU"}`, false},
		{"video bit rate out of range", `{"allowed":true,"video_bit_rate":90000}`, false},
		{"video not bool or object", `{"allowed":true,"video":"yes"}`, false},
		{"denied with bad values", `{"allowed":false,"video_bit_rate":90000}`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := authResultJSON(tc.reply)
			if (err == nil) != tc.ok {
				t.Fatalf("err %v, want ok %t", err, tc.ok)
			}
			if tc.name == "video object" && (r.Video == nil || !*r.Video || r.VideoCodec != "H265" || r.Media.VideoBitRate != 900) {
				t.Errorf("result %+v", r)
			}
		})
	}
}

func authResultJSON(reply string) (AuthResult, error) {
	var r webhooks.AuthReply
	if err := json.Unmarshal([]byte(reply), &r); err != nil {
		return AuthResult{}, err
	}
	return authResult(r)
}

// TestApplyOverrides checks that the authenticator's overrides become
// the connection's settings, and that ignore_disconnect_websocket needs
// DataChannel signaling.
func TestApplyOverrides(t *testing.T) {
	yes, no := true, false
	for _, tc := range []struct {
		name    string
		connect string
		res     AuthResult
		check   func(*connectRequest) bool
		code    int
	}{
		{name: "audio and video off", connect: `{"role":"sendrecv","channel_id":"c"}`, res: AuthResult{Audio: &no, Video: &no},
			check: func(r *connectRequest) bool { return !r.audio && !r.video }},
		{name: "simulcast and rid", connect: `{"role":"sendrecv","channel_id":"c"}`, res: AuthResult{Simulcast: &yes, SimulcastRID: "r1"},
			check: func(r *connectRequest) bool { return r.msg.Simulcast && r.rid == "r1" }},
		{name: "bad rid", connect: `{"role":"sendrecv","channel_id":"c"}`, res: AuthResult{SimulcastRID: "r9"}, code: codeAuthError},
		{name: "data channel signaling on, websocket ignored", connect: `{"role":"recvonly","channel_id":"c"}`,
			res:   AuthResult{DataChannelSignaling: &yes, IgnoreDisconnectWebSocket: &yes},
			check: func(r *connectRequest) bool { return r.dcSignal && r.ignoreWS }},
		{name: "websocket ignored needs data channel signaling", connect: `{"role":"recvonly","channel_id":"c"}`,
			res:   AuthResult{IgnoreDisconnectWebSocket: &yes},
			check: func(r *connectRequest) bool { return !r.dcSignal && !r.ignoreWS }},
		{name: "bit rate replaced, params kept", connect: `{"role":"sendonly","channel_id":"c","video":{"bit_rate":500,"vp9_params":{"profile_id":0}}}`,
			res: AuthResult{Media: MediaSettings{VideoBitRate: 900}},
			check: func(r *connectRequest) bool {
				return r.media.VideoBitRate == 900 && string(r.media.VideoVP9Params) == `{"profile_id":0}`
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, rej := parseConnect([]byte(tc.connect), "")
			if rej != nil {
				t.Fatal(rej)
			}
			rej = req.apply(tc.res)
			if tc.code != 0 {
				if rej == nil || rej.code != tc.code {
					t.Fatalf("rejection %v, want %d", rej, tc.code)
				}
				return
			}
			if rej != nil || !tc.check(req) {
				t.Fatalf("after apply: %v, %+v", rej, req)
			}
		})
	}
}
