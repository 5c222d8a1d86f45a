package loadgen

import (
	"strings"
	"testing"
)

func TestExtmapID(t *testing.T) {
	offer := "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n" +
		"a=extmap:4/recvonly urn:ietf:params:rtp-hdrext:sdes:mid\r\na=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n" +
		"a=extmap:15 urn:example:two-byte\r\n"
	for _, tc := range []struct {
		uri     string
		want    uint8
		wantErr string
	}{
		{"urn:ietf:params:rtp-hdrext:sdes:mid", 4, ""},
		{"urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id", 10, ""},
		{"urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id", 0, "no extmap"},
		{"urn:example:two-byte", 0, "one-byte"},
	} {
		got, err := extmapID(offer, tc.uri)
		if tc.wantErr == "" && (err != nil || got != tc.want) || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("extmapID(%s) = %d, %v; want %d, error %q", tc.uri, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestWithoutRecvLayers(t *testing.T) {
	answer := "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rid:r0 send\r\na=rid:r1 send\r\na=rid:r0 recv\r\n" +
		"a=rid:r1 recv\r\na=simulcast:send r0;r1\r\na=simulcast:recv r0;r1\r\na=mid:0\r\n"
	want := "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rid:r0 send\r\na=rid:r1 send\r\na=simulcast:send r0;r1\r\na=mid:0\r\n"
	if got := withoutRecvLayers(answer); got != want {
		t.Fatalf("got\n%q\nwant\n%q", got, want)
	}
}
