package sfu

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/pion/sdp/v3"
)

// sdpLines joins SDP lines with CRLF.
func sdpLines(lines ...string) string { return strings.Join(lines, "\r\n") + "\r\n" }

// offerWithSlots is an offer as pion writes it for a viewer: the BUNDLE
// tag "0", a forwarded audio slot "1" and video slot "2", and a data
// channel "3".
var offerWithSlots = sdpLines(
	"v=0",
	"o=- 1 2 IN IP4 0.0.0.0",
	"s=-",
	"t=0 0",
	"a=msid-semantic:WMS *",
	"a=fingerprint:sha-256 AA:BB",
	"a=group:BUNDLE 0 1 2 3",
	"m=audio 9 UDP/TLS/RTP/SAVPF 111",
	"c=IN IP4 0.0.0.0",
	"a=setup:actpass",
	"a=mid:0",
	"a=ice-ufrag:srv",
	"a=ice-pwd:srvpassword",
	"a=rtpmap:111 opus/48000/2",
	"a=recvonly",
	"a=candidate:1 1 udp 2130706431 198.18.0.1 50000 typ host",
	"a=end-of-candidates",
	"m=audio 9 UDP/TLS/RTP/SAVPF 111",
	"c=IN IP4 0.0.0.0",
	"a=setup:actpass",
	"a=mid:1",
	"a=ice-ufrag:srv",
	"a=ice-pwd:srvpassword",
	"a=rtpmap:111 opus/48000/2",
	"a=ssrc:1111 cname:pub",
	"a=ssrc:1111 msid:pub audio",
	"a=msid:pub audio",
	"a=sendonly",
	"m=video 9 UDP/TLS/RTP/SAVPF 96 97",
	"c=IN IP4 0.0.0.0",
	"a=setup:actpass",
	"a=mid:2",
	"a=ice-ufrag:srv",
	"a=ice-pwd:srvpassword",
	"a=rtpmap:96 VP8/90000",
	"a=rtpmap:97 rtx/90000",
	"a=fmtp:97 apt=96",
	"a=ssrc-group:FID 2222 3333",
	"a=ssrc:2222 cname:pub",
	"a=ssrc:3333 cname:pub",
	"a=msid:pub video",
	"a=inactive",
	"m=application 9 UDP/DTLS/SCTP webrtc-datachannel",
	"c=IN IP4 0.0.0.0",
	"a=setup:actpass",
	"a=mid:3",
	"a=sctp-port:5000",
)

// answerFor is a browser's answer to offerWithSlots; slot "2" is given
// with port and direction.
func answerFor(videoPort, videoDir string, group string) string {
	lines := []string{"v=0", "o=- 9 2 IN IP4 127.0.0.1", "s=-", "t=0 0", "a=group:BUNDLE " + group, "a=msid-semantic:WMS"}
	lines = append(lines, answerSection("m=audio 9 UDP/TLS/RTP/SAVPF 111", "0", "a=inactive", "a=rtpmap:111 opus/48000/2")...)
	lines = append(lines, answerSection("m=audio 9 UDP/TLS/RTP/SAVPF 111", "1", "a=recvonly", "a=rtpmap:111 opus/48000/2")...)
	lines = append(lines, answerSection("m=video "+videoPort+" UDP/TLS/RTP/SAVPF 96 97", "2", "a="+videoDir,
		"a=rtpmap:96 VP8/90000", "a=rtpmap:97 rtx/90000", "a=fmtp:97 apt=96",
		"a=candidate:2 1 udp 2130706431 198.18.0.2 40000 typ host")...)
	lines = append(lines, answerSection("m=application 9 UDP/DTLS/SCTP webrtc-datachannel", "3", "a=sctp-port:5000")...)
	return sdpLines(lines...)
}

// answerSection is one media section of answerFor: the m-line, the
// client's transport attributes, the mid, then the rest.
func answerSection(mline, mid string, rest ...string) []string {
	return append([]string{mline, "c=IN IP4 0.0.0.0", "a=ice-ufrag:cli", "a=ice-pwd:clipassword",
		"a=fingerprint:sha-256 CC:DD", "a=setup:active", "a=mid:" + mid}, rest...)
}

func parseSDP(t *testing.T, s string) *sdp.SessionDescription {
	t.Helper()
	var d sdp.SessionDescription
	if err := d.UnmarshalString(s); err != nil {
		t.Fatalf("parse %v:\n%s", err, s)
	}
	return &d
}

func section(d *sdp.SessionDescription, mid string) *sdp.MediaDescription {
	for _, m := range d.MediaDescriptions {
		if mediaMid(m) == mid {
			return m
		}
	}
	return nil
}

func direction(m *sdp.MediaDescription) []string {
	var dirs []string
	for _, a := range m.Attributes {
		if slices.Contains(directionAttributes, a.Key) {
			dirs = append(dirs, a.Key)
		}
	}
	return dirs
}

// TestRejectSlots checks which freed slots the client's offer rejects
// and how.
func TestRejectSlots(t *testing.T) {
	answered := map[string]*sdp.MediaDescription{}
	if _, err := restoreRejected(answerFor("9", "recvonly", "0 1 2 3"), nil, answered); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		free     []string
		answered map[string]*sdp.MediaDescription
		rejected []string
	}{
		{"nothing free", nil, answered, nil},
		{"free and answered", []string{"2"}, answered, []string{"2"}},
		{"two free", []string{"1", "2"}, answered, []string{"1", "2"}},
		{"never answered: stays inactive", []string{"2"}, map[string]*sdp.MediaDescription{}, nil},
		{"the BUNDLE tag is never rejected", []string{"0"}, answered, nil},
		{"a mid not in the offer", []string{"7"}, answered, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			free := map[string]bool{}
			for _, mid := range tc.free {
				free[mid] = true
			}
			wire, rejected, err := rejectSlots(offerWithSlots, free, tc.answered)
			if err != nil {
				t.Fatal(err)
			}
			if len(tc.rejected) == 0 {
				if wire != offerWithSlots || len(rejected) != 0 {
					t.Fatalf("offer changed (rejected %v):\n%s", rejected, wire)
				}
				return
			}
			d := parseSDP(t, wire)
			group := bundleMids(d)
			for _, mid := range []string{"0", "1", "2", "3"} {
				m := section(d, mid)
				want := slices.Contains(tc.rejected, mid)
				if rejected[mid] != want || (m.MediaName.Port.Value == 0) != want || slices.Contains(group, mid) == want {
					t.Fatalf("mid %s: rejected %v, port %d, group %v; want rejected %v:\n%s",
						mid, rejected[mid], m.MediaName.Port.Value, group, want, wire)
				}
				if !want {
					continue
				}
				for _, key := range []string{"ssrc", "ssrc-group", "msid", "candidate"} {
					if _, ok := m.Attribute(key); ok {
						t.Fatalf("rejected mid %s keeps a=%s:\n%s", mid, key, wire)
					}
				}
				if dirs := direction(m); !slices.Equal(dirs, []string{"inactive"}) {
					t.Fatalf("rejected mid %s has directions %v", mid, dirs)
				}
				if len(m.MediaName.Formats) == 0 {
					t.Fatalf("rejected mid %s lost its formats", mid)
				}
			}
			if group[0] != "0" {
				t.Fatalf("BUNDLE tag moved: %v", group)
			}
		})
	}
}

// TestRestoreRejected checks the answer pion gets after a rejection: the
// rejected section is the client's earlier answer made inactive, its mid
// back in the BUNDLE group in m-line order, whatever the client did with
// the rejected section (a browser rejects it; pion clients and Firefox,
// whose SDK rewrites port 0 to 9, answer it inactive).
func TestRestoreRejected(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer string
	}{
		{"rejected back", answerFor("0", "inactive", "0 1 3")},
		{"answered inactive", answerFor("9", "inactive", "0 1 2 3")},
		{"rejected, group reordered", answerFor("0", "inactive", "0 3 1")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			answered := map[string]*sdp.MediaDescription{}
			first := answerFor("9", "recvonly", "0 1 2 3")
			if got, err := restoreRejected(first, nil, answered); err != nil || got != first {
				t.Fatalf("answer without rejection changed (%v):\n%s", err, got)
			}
			if answered["2"] == nil || answered["1"] == nil || answered["3"] != nil {
				t.Fatalf("stored answers for %v", slices.Collect(maps.Keys(answered)))
			}
			got, err := restoreRejected(tc.answer, map[string]bool{"2": true}, answered)
			if err != nil {
				t.Fatal(err)
			}
			d := parseSDP(t, got)
			m := section(d, "2")
			if m.MediaName.Port.Value != 9 || !slices.Equal(direction(m), []string{"inactive"}) {
				t.Fatalf("restored section port %d directions %v:\n%s", m.MediaName.Port.Value, direction(m), got)
			}
			if ufrag, _ := m.Attribute("ice-ufrag"); ufrag != "cli" {
				t.Fatalf("restored section lost the client's ICE ufrag:\n%s", got)
			}
			if _, ok := m.Attribute("candidate"); ok {
				t.Fatalf("restored section repeats old candidates:\n%s", got)
			}
			group := bundleMids(d)
			if !slices.Contains(group, "2") || !slices.IsSortedFunc(group, func(a, b string) int { return strings.Compare(a, b) }) {
				t.Fatalf("BUNDLE group %v", group)
			}
			// The stored answer for the rejected slot is the first one.
			if dirs := direction(answered["2"]); !slices.Equal(dirs, []string{"inactive"}) {
				t.Fatalf("stored answer directions %v", dirs)
			}
		})
	}
}

// TestRestoreRejectedErrors checks answers that cannot be restored.
func TestRestoreRejectedErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer string
	}{
		{"not SDP", "hello"},
		{"rejected slot never answered", answerFor("0", "inactive", "0 1 3")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := restoreRejected(tc.answer, map[string]bool{"2": true}, map[string]*sdp.MediaDescription{}); err == nil {
				t.Fatal("no error")
			}
		})
	}
}

// FuzzRestoreRejected feeds arbitrary answers (untrusted: they come from
// the client) through restoreRejected and rejectSlots: neither may panic,
// and whatever restoreRejected returns must parse again.
func FuzzRestoreRejected(f *testing.F) {
	f.Add(answerFor("9", "recvonly", "0 1 2 3"))
	f.Add(answerFor("0", "inactive", "0 1 3"))
	f.Add("v=0\r\nm=video 0 RTP/AVP 0\r\na=mid:2\r\n")
	f.Fuzz(func(t *testing.T, answer string) {
		answered := map[string]*sdp.MediaDescription{}
		_, _ = restoreRejected(answerFor("9", "recvonly", "0 1 2 3"), nil, answered)
		out, err := restoreRejected(answer, map[string]bool{"2": true, "1": true}, answered)
		if err == nil && out != answer {
			var d sdp.SessionDescription
			if err := d.UnmarshalString(out); err != nil {
				t.Fatalf("restored answer does not parse: %v\n%q", err, out)
			}
		}
		_, _, _ = rejectSlots(answer, map[string]bool{"1": true, "2": true}, answered)
	})
}
