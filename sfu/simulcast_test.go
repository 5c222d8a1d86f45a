package sfu

import (
	"errors"
	"strings"
	"testing"
)

func TestKeyframeStart(t *testing.T) {
	for _, tc := range []struct {
		name, mime string
		payload    []byte
		want       bool
	}{
		{"vp8 keyframe", "video/VP8", []byte{0x10, 0x00, 0x9d}, true},
		{"vp8 delta frame", "video/VP8", []byte{0x10, 0x01}, false},
		{"vp8 not the frame's start", "video/VP8", []byte{0x00, 0x00}, false},
		{"vp8 partition 1", "video/VP8", []byte{0x11, 0x00}, false},
		{"vp8 picture id, tl0picidx, tid", "video/vp8", []byte{0x90, 0xe0, 0x92, 0x34, 0x05, 0x20, 0x00}, true},
		{"vp8 picture id, delta", "video/vp8", []byte{0x90, 0xe0, 0x92, 0x34, 0x05, 0x20, 0x01}, false},
		{"vp8 7-bit picture id", "video/vp8", []byte{0x90, 0x80, 0x12, 0x00}, true},
		{"vp8 truncated", "video/vp8", []byte{0x90, 0x80}, false},
		{"vp8 empty", "video/vp8", nil, false},
		{"vp9 keyframe, no layers", "video/VP9", []byte{0x08}, true},
		{"vp9 inter frame", "video/VP9", []byte{0x48}, false},
		{"vp9 not the frame's start", "video/VP9", []byte{0x00}, false},
		{"vp9 spatial layer 0", "video/VP9", []byte{0xa8, 0x12, 0x00}, true},
		{"vp9 spatial layer 1", "video/VP9", []byte{0xa8, 0x12, 0x02}, false},
		{"vp9 15-bit picture id", "video/VP9", []byte{0xa8, 0x81, 0x02, 0x00}, true},
		{"vp9 truncated", "video/VP9", []byte{0xa8, 0x81}, false},
		{"av1 new coded video sequence", "video/AV1", []byte{0x08, 0x0a}, true},
		{"av1 other", "video/AV1", []byte{0x10}, false},
		{"av1 empty", "video/AV1", nil, false},
		{"h264 sps", "video/H264", []byte{0x67, 0x42}, true},
		{"h264 idr", "video/H264", []byte{0x65, 0x88}, true},
		{"h264 non-idr slice", "video/H264", []byte{0x41, 0x9a}, false},
		{"h264 stap-a with sps", "video/H264", []byte{0x78, 0x00, 0x02, 0x67, 0x42, 0x00, 0x02, 0x68, 0xce}, true},
		{"h264 stap-a without", "video/H264", []byte{0x78, 0x00, 0x02, 0x68, 0xce, 0x00, 0x02, 0x06, 0x05}, false},
		{"h264 stap-a zero size", "video/H264", []byte{0x78, 0x00, 0x00, 0x67}, false},
		{"h264 stap-a truncated", "video/H264", []byte{0x78, 0x00}, false},
		{"h264 fu-a idr start", "video/H264", []byte{0x7c, 0x85, 0x88}, true},
		{"h264 fu-a idr middle", "video/H264", []byte{0x7c, 0x05, 0x88}, false},
		{"h264 fu-a non-idr start", "video/H264", []byte{0x7c, 0x81}, false},
		{"h265 vps", "video/H265", []byte{0x40, 0x01}, true},
		{"h265 idr_w_radl", "video/H265", []byte{0x26, 0x01}, true},
		{"h265 trail_r", "video/H265", []byte{0x02, 0x01}, false},
		{"h265 ap with vps", "video/H265", []byte{0x60, 0x01, 0x00, 0x02, 0x40, 0x01}, true},
		{"h265 ap without", "video/H265", []byte{0x60, 0x01, 0x00, 0x02, 0x02, 0x01}, false},
		{"h265 fu idr start", "video/H265", []byte{0x62, 0x01, 0x93}, true},
		{"h265 fu idr middle", "video/H265", []byte{0x62, 0x01, 0x13}, false},
		{"h265 one byte", "video/H265", []byte{0x40}, false},
		{"audio", "audio/opus", []byte{0x10, 0x00}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := keyframeStart(tc.mime, tc.payload); got != tc.want {
				t.Fatalf("keyframeStart(%s, % x) = %v, want %v", tc.mime, tc.payload, got, tc.want)
			}
		})
	}
}

// FuzzKeyframeStart feeds arbitrary payloads, from a publisher, to the
// keyframe readers of every codec: no panic.
func FuzzKeyframeStart(f *testing.F) {
	f.Add([]byte{0x90, 0xe0, 0x92, 0x34, 0x05, 0x20, 0x00})
	f.Add([]byte{0xa8, 0x81, 0x02, 0x00})
	f.Add([]byte{0x78, 0x00, 0x02, 0x67, 0x42})
	f.Add([]byte{0x60, 0x01, 0x00, 0x02, 0x40, 0x01})
	f.Fuzz(func(t *testing.T, p []byte) {
		for _, mime := range []string{"video/VP8", "video/VP9", "video/AV1", "video/H264", "video/H265"} {
			keyframeStart(mime, p)
		}
	})
}

func TestParseRID(t *testing.T) {
	for rid, want := range map[string]int{"r0": 0, "r1": 1, "r2": 2} {
		if got, err := ParseRID(rid); err != nil || got != want {
			t.Fatalf("ParseRID(%q) = %d, %v", rid, got, err)
		}
	}
	for _, rid := range []string{"", "r3", "R0", "high"} {
		if _, err := ParseRID(rid); !errors.Is(err, ErrInvalid) {
			t.Fatalf("ParseRID(%q) error %v, want ErrInvalid", rid, err)
		}
	}
}

func TestAddSimulcastRecv(t *testing.T) {
	offer := "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n" +
		"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=recvonly\r\n" +
		"m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=recvonly\r\n"
	got, err := addSimulcastRecv(offer, "1")
	if err != nil {
		t.Fatal(err)
	}
	video := got[strings.Index(got, "m=video"):]
	for _, line := range []string{"a=rid:r0 recv", "a=rid:r1 recv", "a=rid:r2 recv", "a=simulcast:recv r0;r1;r2"} {
		if !strings.Contains(video, line+"\r\n") {
			t.Fatalf("video m-line lacks %q:\n%s", line, got)
		}
	}
	if strings.Contains(got[:strings.Index(got, "m=video")], "a=rid") {
		t.Fatalf("audio m-line got rids:\n%s", got)
	}
	if _, err := addSimulcastRecv(offer, "7"); err == nil {
		t.Fatal("no error for a mid the offer lacks")
	}
	if _, err := addSimulcastRecv("garbage", "1"); err == nil {
		t.Fatal("no error for an unparsable offer")
	}
}

// TestRequestSimulcastRID checks the API's errors: an unknown rid, an
// unknown receiver, a sender the receiver gets no simulcast from.
func TestRequestSimulcastRID(t *testing.T) {
	s := newTestSFU(t, nil)
	v := startViewer(t, s, "")
	id := v.conn.ID()
	for _, tc := range []struct {
		name, receiver, sender, rid string
		want                        error
	}{
		{"every sender", id, "", "r2", nil},
		{"bad rid", id, "", "r7", ErrInvalid},
		{"unknown receiver", "nobody", "", "r1", ErrNotFound},
		{"no simulcast from that sender", id, "someone", "r1", ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := s.RequestSimulcastRID("ch", tc.receiver, tc.sender, tc.rid)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
		})
	}
	if v.conn.simulcastTarget != 2 {
		t.Fatalf("later simulcast sources start at layer %d, want 2", v.conn.simulcastTarget)
	}
}
