package signaling

import (
	"strings"
	"testing"

	"github.com/kiroku-sfu/kiroku/sfu"
)

func TestParseConnect(t *testing.T) {
	for _, tc := range []struct {
		name  string
		in    string
		code  int
		role  sfu.Role
		codec sfu.Codec
		audio bool
		video bool
		rid   string
	}{
		{name: "sdk defaults", in: `{"type":"connect","role":"sendrecv","channel_id":"c","metadata":null,"audio":true,"video":true}`,
			role: sfu.SendRecv, codec: sfu.VP9, audio: true, video: true},
		{name: "absent media means on", in: `{"role":"recvonly","channel_id":"c"}`, role: sfu.RecvOnly, codec: sfu.VP9, audio: true, video: true},
		{name: "codec object", in: `{"role":"sendonly","channel_id":"c","video":{"codec_type":"h264","bit_rate":500},"audio":{"codec_type":"OPUS"}}`,
			role: sfu.SendOnly, codec: sfu.H264, audio: true, video: true},
		{name: "media off", in: `{"role":"sendonly","channel_id":"c","audio":false,"video":false}`, role: sfu.SendOnly, codec: sfu.VP9},
		{name: "bad audio codec", in: `{"role":"sendonly","channel_id":"c","audio":{"codec_type":"AAC"}}`, code: codeInvalidParam},
		{name: "video wrong type", in: `{"role":"sendonly","channel_id":"c","video":"yes"}`, code: codeInvalidParam},
		{name: "long client_id", in: `{"role":"sendonly","channel_id":"c","client_id":"` + strings.Repeat("x", 256) + `"}`, code: codeInvalidParam},
		{name: "simulcast", in: `{"role":"sendonly","channel_id":"c","simulcast":true,"simulcast_rid":"r1"}`,
			role: sfu.SendOnly, codec: sfu.VP9, audio: true, video: true, rid: "r1"},
		{name: "simulcast_request_rid wins", in: `{"role":"recvonly","channel_id":"c","simulcast_rid":"r1","simulcast_request_rid":"r2"}`,
			role: sfu.RecvOnly, codec: sfu.VP9, audio: true, video: true, rid: "r2"},
		{name: "simulcast_request_rid none", in: `{"role":"recvonly","channel_id":"c","simulcast_request_rid":"none"}`,
			role: sfu.RecvOnly, codec: sfu.VP9, audio: true, video: true},
		{name: "bad simulcast_rid", in: `{"role":"recvonly","channel_id":"c","simulcast_rid":"r3"}`, code: codeInvalidParam},
		{name: "bad simulcast_request_rid", in: `{"role":"recvonly","channel_id":"c","simulcast_request_rid":"high"}`, code: codeInvalidParam},
		{name: "spotlight", in: `{"role":"recvonly","channel_id":"c","spotlight":true,"spotlight_number":3,"spotlight_unfocus_rid":"none"}`,
			role: sfu.RecvOnly, codec: sfu.VP9, audio: true, video: true},
		{name: "bad spotlight_number", in: `{"role":"recvonly","channel_id":"c","spotlight":true,"spotlight_number":9}`, code: codeInvalidParam},
		{name: "bad spotlight_focus_rid", in: `{"role":"recvonly","channel_id":"c","spotlight":true,"spotlight_focus_rid":"r3"}`, code: codeInvalidParam},
		{name: "messaging channel", in: `{"role":"sendrecv","channel_id":"c","data_channels":[{"label":"#chat","direction":"sendrecv","header":[{"type":"sender_connection_id"}]}]}`,
			role: sfu.SendRecv, codec: sfu.VP9, audio: true, video: true},
		{name: "compressed channel", in: `{"role":"sendrecv","channel_id":"c","data_channels":[{"label":"#chat","compress":true}]}`, code: codeInvalidParam},
		{name: "system label", in: `{"role":"sendrecv","channel_id":"c","data_channels":[{"label":"signaling"}]}`, code: codeInvalidParam},
		{name: "duplicate label", in: `{"role":"sendrecv","channel_id":"c","data_channels":[{"label":"#a"},{"label":"#a"}]}`, code: codeInvalidParam},
		{name: "unknown header", in: `{"role":"sendrecv","channel_id":"c","data_channels":[{"label":"#a","header":[{"type":"x"}]}]}`, code: codeInvalidParam},
		{name: "role wrong type", in: `{"role":1,"channel_id":"c"}`, code: codeMalformed},
		{name: "escaped control character", in: `{"role":"sendrecv","channel_id":"a\u0007"}`, code: codeInvalidChannel},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, rej := parseConnect([]byte(tc.in), sfu.VP9)
			if tc.code != 0 {
				if rej == nil || rej.code != tc.code {
					t.Fatalf("rejection = %v, want code %d", rej, tc.code)
				}
				return
			}
			if rej != nil {
				t.Fatalf("rejected: %d %s", rej.code, rej.reason)
			}
			if req.role != tc.role || req.videoCodec != tc.codec || req.audio != tc.audio || req.video != tc.video || req.rid != tc.rid {
				t.Fatalf("got role %s codec %s audio %v video %v rid %q", req.role, req.videoCodec, req.audio, req.video, req.rid)
			}
		})
	}
}

func TestTruncateReason(t *testing.T) {
	long := strings.Repeat("あ", 60) // 180 bytes
	got := truncateReason(long)
	if len(got) > maxReasonBytes || !strings.HasPrefix(long, got) || len(got)%3 != 0 {
		t.Fatalf("truncateReason cut %d bytes badly", len(got))
	}
	if truncateReason("short") != "short" {
		t.Fatal("short reason changed")
	}
}

// FuzzParseConnect checks that any bytes are either rejected with a 4xxx
// code or yield a connect that satisfies every rule.
func FuzzParseConnect(f *testing.F) {
	for _, s := range []string{
		`{"type":"connect","role":"sendrecv","channel_id":"c","metadata":null}`,
		`{"role":"recvonly","channel_id":"x","video":{"codec_type":"AV1"},"audio":false}`,
		`{"role":"sendonly","channel_id":"","client_id":"a","bundle_id":"b","multistream":true}`,
		`{"role":"sendrecv","channel_id":"c","data_channels":[{"label":"#a","direction":"recvonly","max_retransmits":1}]}`,
		`[]`, `null`, `{"video":{}}`, "\xff",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		req, rej := parseConnect(data, sfu.VP8)
		if rej != nil {
			if rej.code < 4000 || rej.code > 4999 || rej.reason == "" || len(rej.reason) > maxReasonBytes {
				t.Fatalf("bad rejection %d %q", rej.code, rej.reason)
			}
			return
		}
		if !req.role.Valid() || !validID(req.msg.ChannelID, false) || len(req.msg.ClientID) > maxIDBytes {
			t.Fatalf("accepted invalid connect %q", data)
		}
		for _, d := range req.channels {
			if sfu.ValidDataChannel(d) != nil {
				t.Fatalf("accepted data channel %+v", d)
			}
		}
		if _, err := sfu.ParseCodec(string(req.videoCodec)); err != nil {
			t.Fatalf("accepted codec %q", req.videoCodec)
		}
	})
}
