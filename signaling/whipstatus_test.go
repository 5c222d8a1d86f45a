package signaling

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/kiroku-sfu/kiroku/sfu"
)

// tokenAuth allows only the bearer token "good".
type tokenAuth struct{}

func (tokenAuth) Authenticate(_ context.Context, r AuthRequest) (AuthResult, error) {
	if strings.Contains(string(r.Metadata), `"access_token":"good"`) {
		return AuthResult{Allowed: true}, nil
	}
	return AuthResult{Allowed: false, Reason: "NO-ENTRY"}, nil
}

// TestWHIPStatusCodes checks every refusal of the WHIP and WHEP endpoints:
// status, plain-text reason, and that nothing joined.
func TestWHIPStatusCodes(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.Authenticator = tokenAuth{}; c.MaxMessageBytes = 16 << 10 })
	base := ts.http.URL
	sendOffer := newWHIPPublisher(t).offer()
	recvOffer := newWHEPPlayer(t).offer()
	good := map[string]string{"Authorization": "Bearer good"}
	for _, tc := range []struct {
		name, method, path, contentType, body string
		headers                               map[string]string
		status                                int
		reason                                string
	}{
		{"GET", http.MethodGet, "/whip/ch", "", "", good, 405, "not allowed"},
		{"PUT on a resource", http.MethodPut, "/whip-resource/x", "", "", good, 405, "not allowed"},
		{"no content type", http.MethodPost, "/whip/ch", "", sendOffer, good, 415, "application/sdp"},
		{"json body", http.MethodPost, "/whip/ch", "application/json", "{}", good, 415, "application/sdp"},
		{"too large", http.MethodPost, "/whip/ch", sdpType, sendOffer + strings.Repeat("a=x\r\n", 4000), good, 413, "over"},
		{"not sdp", http.MethodPost, "/whip/ch", sdpType, "hello", good, 400, "bad offer"},
		{"no media", http.MethodPost, "/whip/ch", sdpType, "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n", good, 400, "no audio or video"},
		{"no channel", http.MethodPost, "/whip/", sdpType, sendOffer, good, 400, "INVALID-CHANNEL-ID"},
		{"channel with a slash", http.MethodPost, "/whip/a/b", sdpType, sendOffer, good, 400, "INVALID-CHANNEL-ID"},
		{"recvonly offer to WHIP", http.MethodPost, "/whip/ch", sdpType, recvOffer, good, 400, "sends"},
		{"sendonly offer to WHEP", http.MethodPost, "/whep/ch", sdpType, sendOffer, good, 400, "receives"},
		{"codec not offered", http.MethodPost, "/whip/ch?video_codec_type=H265", sdpType, strings.ReplaceAll(sendOffer, "H265", "X265"), good, 400, "video_codec_type"},
		{"bad rid", http.MethodPost, "/whep/ch?rid=r7", sdpType, recvOffer, good, 400, "rid"},
		{"unknown publisher", http.MethodPost, "/whep/ch?connection_id=NOPE", sdpType, recvOffer, good, 404, "no publisher"},
		{"no token", http.MethodPost, "/whip/ch", sdpType, sendOffer, nil, 401, "NO-ENTRY"},
		{"malformed authorization", http.MethodPost, "/whip/ch", sdpType, sendOffer, map[string]string{"Authorization": "Basic eA=="}, 401, "Bearer"},
		{"wrong token", http.MethodPost, "/whip/ch", sdpType, sendOffer, map[string]string{"Authorization": "Bearer bad"}, 403, "NO-ENTRY"},
		{"unknown resource PATCH", http.MethodPatch, "/whip-resource/nope", sdpFragType, "a=end-of-candidates\r\n", good, 404, "no such"},
		{"unknown resource DELETE", http.MethodDelete, "/whep-resource/nope", "", "", good, 404, "no such"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := do(t, tc.method, base+tc.path, tc.contentType, tc.body, tc.headers)
			if resp.StatusCode != tc.status || !strings.Contains(body, tc.reason) ||
				!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
				t.Fatalf("%d %q (%s), want %d with %q", resp.StatusCode, body, resp.Header.Get("Content-Type"), tc.status, tc.reason)
			}
			if tc.status == 405 && resp.Header.Get("Allow") == "" {
				t.Fatal("405 without Allow")
			}
			if tc.status == 401 && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Fatal("401 without WWW-Authenticate: Bearer")
			}
		})
	}
	if n := len(ts.sfu.Connections()); n != 0 {
		t.Fatalf("%d connections joined from refused requests", n)
	}

	t.Run("blocked", func(t *testing.T) {
		for _, mode := range []sfu.Mode{sfu.ModeBlockNewConnection, sfu.ModeBlockNewSession} {
			if err := ts.sfu.SetMode(mode); err != nil {
				t.Fatal(err)
			}
			resp, body := do(t, http.MethodPost, base+"/whip/ch", sdpType, sendOffer, good)
			if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "BLOCKED") || resp.Header.Get("Retry-After") == "" {
				t.Fatalf("%s: %d %q", mode, resp.StatusCode, body)
			}
		}
		if err := ts.sfu.SetMode(sfu.ModeNormal); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("preflight", func(t *testing.T) {
		for _, path := range []string{"/whip/ch", "/whep-resource/x"} {
			resp, _ := do(t, http.MethodOptions, base+path, "", "", map[string]string{"Origin": "https://player.example",
				"Access-Control-Request-Method": "POST"})
			h := resp.Header
			if resp.StatusCode != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != "*" ||
				!strings.Contains(h.Get("Access-Control-Expose-Headers"), "Location") ||
				!strings.Contains(h.Get("Access-Control-Allow-Headers"), "Authorization") {
				t.Fatalf("OPTIONS %s: %d %v", path, resp.StatusCode, h)
			}
		}
	})
	t.Run("PATCH refusals", func(t *testing.T) {
		pub := newWHIPPublisher(t)
		if resp := pub.post(base+"/whip/ch", "good"); resp.StatusCode != http.StatusCreated {
			t.Fatalf("POST: %d", resp.StatusCode)
		}
		loc := base + pub.location
		if resp, _ := do(t, http.MethodPatch, loc, "application/sdp", "a=end-of-candidates\r\n", nil); resp.StatusCode != 415 {
			t.Fatalf("PATCH with application/sdp: %d", resp.StatusCode)
		}
		if resp, _ := do(t, http.MethodPatch, loc, sdpFragType, "a=end-of-candidates\r\n", map[string]string{"If-Match": `"stale"`}); resp.StatusCode != 412 {
			t.Fatalf("PATCH with a stale If-Match: %d", resp.StatusCode)
		}
		if resp, _ := do(t, http.MethodPatch, loc, sdpFragType, "a=ice-ufrag:new\r\n", nil); resp.StatusCode != 400 {
			t.Fatalf("ICE restart without a password: %d", resp.StatusCode)
		}
	})
}

// TestWHIPICERestart restarts ICE of a WHIP publisher with a PATCH: the
// server answers with new credentials and candidates, ICE connects again
// and media keeps flowing to a WHEP player.
func TestWHIPICERestart(t *testing.T) {
	ts := startServer(t, nil)
	base := ts.http.URL
	pub := newWHIPPublisher(t)
	if resp := pub.post(base+"/whip/ch", ""); resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST: %d", resp.StatusCode)
	}
	pub.send()
	player := newWHEPPlayer(t)
	if resp := player.post(base+"/whep/ch", ""); resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /whep: %d", resp.StatusCode)
	}
	eventually(t, "video at the player", func() bool { return player.videoPackets() >= 10 })

	offer, err := pub.pc.CreateOffer(&webrtc.OfferOptions{ICERestart: true})
	if err != nil {
		t.Fatal(err)
	}
	done := webrtc.GatheringCompletePromise(pub.pc)
	if err := pub.pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-done
	local := sfu.ICECredentials{}
	var frag strings.Builder
	for _, line := range strings.Split(pub.pc.LocalDescription().SDP, "\r\n") {
		switch {
		case strings.HasPrefix(line, "a=ice-ufrag:"):
			local.Ufrag = strings.TrimPrefix(line, "a=ice-ufrag:")
		case strings.HasPrefix(line, "a=ice-pwd:"):
			local.Pwd = strings.TrimPrefix(line, "a=ice-pwd:")
		case strings.HasPrefix(line, "a=candidate:") && !strings.Contains(frag.String(), line):
			frag.WriteString(line + "\r\n")
		}
	}
	body := "a=ice-ufrag:" + local.Ufrag + "\r\na=ice-pwd:" + local.Pwd + "\r\na=mid:0\r\n" + frag.String()
	resp, answerFrag := do(t, http.MethodPatch, base+pub.location, sdpFragType, body, map[string]string{"If-Match": pub.etag})
	if resp.StatusCode != http.StatusOK || resp.Header.Get("ETag") == pub.etag ||
		!strings.Contains(answerFrag, "a=ice-ufrag:") || !strings.Contains(answerFrag, "a=candidate:") {
		t.Fatalf("PATCH restart: %d %q etag %s", resp.StatusCode, answerFrag, resp.Header.Get("ETag"))
	}
	server := parseSDPFrag(answerFrag)
	prev := iceOf(pub.answer)
	answer := strings.NewReplacer("a=ice-ufrag:"+prev.Ufrag, "a=ice-ufrag:"+server.ice.Ufrag,
		"a=ice-pwd:"+prev.Pwd, "a=ice-pwd:"+server.ice.Pwd).Replace(pub.answer)
	if server.ice == prev {
		t.Fatal("the server kept its ICE credentials")
	}
	if err := pub.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		t.Fatalf("apply restarted answer: %v", err)
	}
	for _, c := range server.candidates {
		_ = pub.pc.AddICECandidate(webrtc.ICECandidateInit{Candidate: c.candidate})
	}
	n := player.videoPackets()
	deadline := time.Now().Add(10 * time.Second)
	for pub.pc.ICEConnectionState() != webrtc.ICEConnectionStateConnected || player.videoPackets() < n+50 {
		if time.Now().After(deadline) {
			t.Fatalf("after the restart: ICE %s, %d packets more", pub.pc.ICEConnectionState(), player.videoPackets()-n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func iceOf(desc string) sfu.ICECredentials {
	f := parseSDPFrag(desc)
	return f.ice
}

// TestWHIPLinkICEServers checks the Link headers of a WHIP answer: the
// configured servers, and the TURN server with credentials of the
// connection's own, revoked when the resource is deleted.
func TestWHIPLinkICEServers(t *testing.T) {
	turn := &fakeTURN{}
	static := []ICEServer{{URLs: []string{"stun:192.0.2.1:3478"}}}
	ts := startServer(t, func(c *Config) { c.TURN, c.ICEServers = turn, static })
	pub := newWHIPPublisher(t)
	resp := pub.post(ts.http.URL+"/whip/ch", "")
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST: %d", resp.StatusCode)
	}
	id := resp.Header.Get("Sora-Connection-Id")
	links := resp.Header.Values("Link")
	want := []string{`<stun:192.0.2.1:3478>; rel="ice-server"`,
		`<turn:198.51.100.1:3478?transport=udp>; rel="ice-server"; username="` + id + `"; credential="secret-` + id +
			`"; credential-type="password"`}
	if len(links) != len(want) || links[0] != want[0] || links[1] != want[1] {
		t.Fatalf("Link headers %q, want %q", links, want)
	}
	if r, _ := do(t, http.MethodDelete, ts.http.URL+pub.location, "", "", nil); r.StatusCode != http.StatusOK {
		t.Fatalf("DELETE: %d", r.StatusCode)
	}
	if got := turn.revokedUsers(); len(got) != 1 || got[0] != id {
		t.Fatalf("revoked %v, want %s", got, id)
	}
}
