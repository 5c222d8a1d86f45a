package sfu

import (
	"strings"
	"testing"

	"github.com/pion/sdp/v3"
)

// chromeCapability is the video part of a capability offer as Chromium
// makes it (abridged): VP8, VP9 profiles 0 and 2, H.264 constrained
// baseline in both packetization modes and high, AV1, and their RTX.
const chromeCapability = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" +
	"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=rtpmap:111 opus/48000/2\r\n" +
	"m=video 9 UDP/TLS/RTP/SAVPF 96 97 98 100 102 104 106 45\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\n" +
	"a=rtpmap:96 VP8/90000\r\na=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n" +
	"a=rtpmap:98 VP9/90000\r\na=fmtp:98 profile-id=0\r\n" +
	"a=rtpmap:100 VP9/90000\r\na=fmtp:100 profile-id=2\r\n" +
	"a=rtpmap:102 H264/90000\r\na=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f\r\n" +
	"a=rtpmap:104 H264/90000\r\na=fmtp:104 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f\r\n" +
	"a=rtpmap:106 H264/90000\r\na=fmtp:106 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=640034\r\n" +
	"a=rtpmap:45 AV1/90000\r\na=fmtp:45 level-idx=5;profile=0;tier=0\r\n"

func TestVideoCapabilities(t *testing.T) {
	caps, err := newVideoCapabilities(chromeCapability)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		mime, fmtp string
		want       bool
	}{
		{"video/VP8", "", true},
		{"video/vp8", "", true},
		{"video/VP9", "profile-id=0", true},
		{"video/VP9", "", true}, // profile 0 by default
		{"video/VP9", "profile-id=1", false},
		{"video/H264", "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f", true},
		{"video/H264", "packetization-mode=1;profile-level-id=640c1f", true},
		{"video/H264", "packetization-mode=1;profile-level-id=4d001f", false}, // main: not listed
		{"video/H264", "profile-level-id=42e01f", true},                       // mode 0: listed too
		{"video/AV1", "", true},
		{"video/AV1", "profile=1", false},
		{"video/H265", "profile-id=1", false},
		{"audio/opus", "", false},
	} {
		if got := caps.accepts(tc.mime, tc.fmtp); got != tc.want {
			t.Errorf("accepts(%s, %q) = %v, want %v", tc.mime, tc.fmtp, got, tc.want)
		}
	}
	caps.refuse("video/VP8", "")
	if caps.accepts("video/VP8", "") {
		t.Error("a refused codec is still accepted")
	}
}

func TestVideoCapabilitiesUndescribed(t *testing.T) {
	for _, capability := range []string{"", "  ", "v=0\r\n", "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n" +
		"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n"} {
		caps, err := newVideoCapabilities(capability)
		if err != nil {
			continue // an error makes the caller describe nothing too
		}
		if !caps.accepts("video/H265", "") || !caps.accepts("video/VP8", "") {
			t.Errorf("capability %q: a codec is refused though no video was described", capability)
		}
	}
	if _, err := newVideoCapabilities("not an sdp"); err == nil {
		t.Error("a capability that is no SDP parsed")
	}
}

func TestSameCodec(t *testing.T) {
	for _, tc := range []struct {
		mime, a, b string
		want       bool
	}{
		{"video/H264", "profile-level-id=42e01f;packetization-mode=1", "packetization-mode=1;profile-level-id=42e034", true},
		{"video/H264", "profile-level-id=42e01f;packetization-mode=1", "profile-level-id=42e01f", false},
		{"video/H264", "profile-level-id=42e01f", "", true},
		{"video/H264", "profile-level-id=640c1f;packetization-mode=1", "profile-level-id=42e01f;packetization-mode=1", false},
		{"video/H264", "profile-level-id=zz;packetization-mode=1", "packetization-mode=1", true},
		{"video/VP9", "profile-id=2", "profile-id=0", false},
		{"video/AV1", "", "profile=0;level-idx=8", true},
		{"video/H265", "profile-id=2", "", false},
		{"video/VP8", "max-fr=30", "", true},
	} {
		if got := sameCodec(tc.mime, tc.a, tc.b); got != tc.want {
			t.Errorf("sameCodec(%s, %q, %q) = %v, want %v", tc.mime, tc.a, tc.b, got, tc.want)
		}
	}
}

// TestWithEveryVideoCodec checks that an answer's live video sections
// list every SFU codec for pion, and that rejected sections, audio and
// payload types the client already uses are left alone.
func TestWithEveryVideoCodec(t *testing.T) {
	answer := "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" +
		"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=rtpmap:111 opus/48000/2\r\n" +
		"m=video 9 UDP/TLS/RTP/SAVPF 102\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=rtpmap:102 H264/90000\r\n" +
		"a=fmtp:102 packetization-mode=1;profile-level-id=42e01f\r\n" +
		"m=video 0 UDP/TLS/RTP/SAVPF 0\r\nc=IN IP4 0.0.0.0\r\na=mid:2\r\n"
	out, err := withEveryVideoCodec(answer, true)
	if err != nil {
		t.Fatal(err)
	}
	var d sdp.SessionDescription
	if err := d.UnmarshalString(out); err != nil {
		t.Fatal(err)
	}
	live := sectionCodecs(d.MediaDescriptions[1])
	var names []string
	for _, f := range live {
		names = append(names, f.mime)
	}
	if got := strings.Join(names, " "); got != "video/H264 video/VP8 video/rtx video/VP9 video/rtx video/AV1 video/rtx video/rtx video/H265 video/rtx" {
		t.Fatalf("live section codecs: %s", got)
	}
	if live[0].fmtp != "packetization-mode=1;profile-level-id=42e01f" {
		t.Fatalf("the client's own codec changed: %q", live[0].fmtp)
	}
	if n := len(sectionCodecs(d.MediaDescriptions[2])); n != 0 {
		t.Fatalf("a rejected section got %d codecs", n)
	}
	if n := len(d.MediaDescriptions[0].MediaName.Formats); n != 1 {
		t.Fatalf("the audio section has %d formats", n)
	}
}

// FuzzVideoCapabilities reads hostile capability sdps: never a panic,
// and a parsed one answers every question.
func FuzzVideoCapabilities(f *testing.F) {
	f.Add(chromeCapability)
	f.Add("v=0\r\nm=video 9 X 96\r\na=rtpmap:96\r\na=fmtp:96\r\na=rtpmap: \r\n")
	f.Fuzz(func(t *testing.T, capability string) {
		caps, err := newVideoCapabilities(capability)
		if err != nil {
			return
		}
		for _, c := range videoCodecs {
			vc, _ := videoCodec(c)
			caps.accepts(vc.MimeType, vc.SDPFmtpLine)
		}
		if _, err := withEveryVideoCodec(capability, true); err != nil {
			t.Fatalf("a description that parsed failed to take the codecs: %v", err)
		}
	})
}

// TestNoRTXClient: an answer without RTX gets no RTX added, so pion
// answers that client's NACKs with plain retransmissions it can use.
func TestNoRTXClient(t *testing.T) {
	answer := "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" +
		"m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=rtpmap:96 VP8/90000\r\n"
	if has, known := answerRTX(answer); has || !known {
		t.Fatalf("an answer without rtx: has %v known %v", has, known)
	}
	if has, _ := answerRTX(strings.Replace(answer, "SAVPF 96", "SAVPF 96 97", 1) + "a=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n"); !has {
		t.Fatal("an answer with rtx read as without it")
	}
	if _, known := answerRTX(strings.Replace(answer, "m=video 9", "m=video 0", 1)); known {
		t.Fatal("an answer without a live video section told whether the client does RTX")
	}
	out, err := withEveryVideoCodec(answer, false)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(strings.ToLower(out), "rtx/90000") || !strings.Contains(out, "H265/90000") {
		t.Fatalf("answer of a client without RTX:\n%s", out)
	}
}
