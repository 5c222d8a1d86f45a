package sfu

import (
	"strings"
	"testing"
)

// TestAddSimulcastRecvOnce checks a re-offer in which pion already
// repeats the layers it read from the client's answer: the video m-line
// keeps one simulcast attribute and one rid line per layer, since
// Chromium rejects a section that has two.
func TestAddSimulcastRecvOnce(t *testing.T) {
	offer := "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n" +
		"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=recvonly\r\n" +
		"m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=recvonly\r\n" +
		"a=rid:r0 recv\r\na=rid:r1 recv\r\na=rid:r2 recv\r\na=simulcast:recv r0;r1;r2\r\n"
	got, err := addSimulcastRecv(offer, "1")
	if err != nil {
		t.Fatal(err)
	}
	again, err := addSimulcastRecv(got, "1")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"a=simulcast:", "a=rid:r0 ", "a=rid:r1 ", "a=rid:r2 "} {
		if n := strings.Count(again, line); n != 1 {
			t.Fatalf("%q appears %d times:\n%s", line, n, again)
		}
	}
}
