package e2e

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// Stock WHIP and WHEP clients from npm (test/browser/stock.mjs), bundled
// by esbuild once per run into node_modules, which the page server
// serves with the rest of test/browser.
var stockBundle struct {
	once sync.Once
	err  error
}

// openStockPage opens stock.html with the stock clients loaded.
func openStockPage(t *testing.T) *page {
	t.Helper()
	stockBundle.once.Do(func() {
		out, err := exec.Command(filepath.Join(browserDir, "node_modules", ".bin", "esbuild"),
			filepath.Join(browserDir, "stock.mjs"), "--bundle", "--format=iife", "--platform=browser", "--log-level=warning",
			"--outfile="+filepath.Join(browserDir, "node_modules", ".kiroku-build", "stock.js")).CombinedOutput()
		if err != nil {
			stockBundle.err = fmt.Errorf("bundle the stock clients: %v: %s", err, out)
		}
	})
	if stockBundle.err != nil {
		t.Fatal(stockBundle.err)
	}
	p, err := shared.browser.open(shared.base + "/stock.html")
	if err != nil {
		t.Fatalf("open stock page: %v", err)
	}
	t.Cleanup(func() { _ = p.close() })
	return p
}

// whipPublisher is a stock WHIP client page publishing the fake camera.
type whipPublisher struct {
	*member
}

// publishWHIP publishes from a stock WHIP client page to endpoint and
// returns it as a member named by the connection_id the server gave it.
func publishWHIP(t *testing.T, s *recServer, name, endpoint, channel string) whipPublisher {
	t.Helper()
	before := map[string]bool{}
	for _, c := range s.connections(t, channel) {
		before[c] = true
	}
	p := openStockPage(t)
	var ok bool
	if err := p.call("publish", map[string]any{"endpoint": endpoint, "token": "stock-token"}, &ok); err != nil || !ok {
		t.Fatalf("%s publish: %v", name, err)
	}
	var id string
	waitFor(t, name+" joined", 10*time.Second, func() string {
		for _, c := range s.connections(t, channel) {
			if !before[c] {
				id = c
				return ""
			}
		}
		return "no new connection"
	})
	return whipPublisher{&member{t: t, name: name, p: p, id: id, role: "sendonly"}}
}

// connections lists the connection ids of a channel, from the API.
func (s *recServer) connections(t *testing.T, channel string) []string {
	t.Helper()
	var list []struct {
		ConnectionID string `json:"connection_id"`
	}
	s.api(t, "Sora_20201013.ListChannelConnections", map[string]any{"channel_id": channel}, &list)
	out := make([]string, 0, len(list))
	for _, c := range list {
		out = append(out, c.ConnectionID)
	}
	return out
}

// playback is the stock player's progress.
type playback struct {
	CurrentTime float64  `json:"currentTime"`
	Frames      int      `json:"frames"`
	Width       int      `json:"width"`
	Errors      []string `json:"errors"`
}

// expectPlaying waits until the stock player's video advanced by 30
// frames and a second.
func expectPlaying(t *testing.T, p *page, what string) {
	t.Helper()
	var base playback
	if err := p.call("playback", nil, &base); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the WHEP player playing "+what, 30*time.Second, func() string {
		var now playback
		if err := p.call("playback", nil, &now); err != nil {
			return err.Error()
		}
		if now.Frames < base.Frames+30 || now.CurrentTime < base.CurrentTime+1 || now.Width == 0 {
			return fmt.Sprintf("%+v, was %+v", now, base)
		}
		return ""
	})
}

// TestStockWHIPAndWHEP publishes from a stock browser WHIP client in VP8
// and in H.264 into a channel a recvonly sora-js-sdk page decodes,
// records both to MP4 and WebM, and plays the channel with a stock WHEP
// player: first a sora-js-sdk publisher, then, after it leaves, the most
// recent WHIP publisher, on the same player connection.
func TestStockWHIPAndWHEP(t *testing.T) {
	const channel = "stock"
	hooks := &hookLog{}
	srv := startRecServer(t, hooks, "")
	camera := srv.joinAt(t, "camera", channel, "VP8", map[string]any{"name": "camera"})
	player := openStockPage(t)
	var ok bool
	if err := player.call("play", map[string]any{"url": whipEndpoint(srv.ws, "whep", channel)}, &ok); err != nil || !ok {
		t.Fatalf("play: %v", err)
	}
	expectPlaying(t, player, "the sora-js-sdk publisher")

	viewer := srv.joinRecvonly(t, "viewer", channel)
	vp8 := publishWHIP(t, srv, "whip-vp8", whipEndpoint(srv.ws, "whip", channel)+"?video_codec_type=VP8", channel)
	h264 := publishWHIP(t, srv, "whip-h264", whipEndpoint(srv.ws, "whip", channel)+"?video_codec_type=H264", channel)
	expectFlow(t, viewer, vp8.member, "VP8")
	expectFlow(t, viewer, h264.member, "H264")
	auth := hooks.waitHook(t, "auth", 5*time.Second, func(w webhook) bool { return w.Body["connection_id"] == vp8.id })
	if auth.Body["whip"] != true {
		t.Errorf("auth webhook of the stock WHIP client: %v", auth.Body)
	}

	for _, format := range []string{"mp4", "webm"} {
		var rec recordingInfo
		srv.api(t, "Sora_20231220.StartRecording", map[string]any{"channel_id": channel, "format": format}, &rec)
		time.Sleep(5 * time.Second)
		srv.api(t, "Sora_20231220.StopRecording", map[string]any{"channel_id": channel}, nil)
		for _, pub := range []struct {
			id, codec string
		}{{vp8.id, "VP8"}, {h264.id, "H264"}} {
			hooks.waitHook(t, "archive.available", 30*time.Second, func(w webhook) bool {
				return w.data("recording_id") == rec.RecordingID && w.Body["connection_id"] == pub.id
			})
			path := filepath.Join(srv.archive, rec.RecordingID, "archive-"+pub.id+"."+format)
			if frames := checkCodecFile(t, path, pub.codec, 5*time.Second); frames < 60 {
				t.Errorf("%s: %d frames of 5 s", filepath.Base(path), frames)
			}
		}
	}

	// The player follows the channel's most recent publisher once the one
	// it plays leaves: the H.264 WHIP client, on the same tracks.
	camera.disconnect()
	expectPlaying(t, player, "the most recent WHIP publisher after the first publisher left")
	var pl playback
	if err := player.call("playback", nil, &pl); err != nil || len(pl.Errors) > 0 {
		t.Fatalf("player errors: %v %v", err, pl.Errors)
	}
	var done bool
	if err := h264.p.call("unpublish", nil, &done); err != nil {
		t.Fatal(err)
	}
	hooks.waitHook(t, "connection.destroyed", 10*time.Second, func(w webhook) bool { return w.Body["connection_id"] == h264.id })
	expectPlaying(t, player, "the VP8 WHIP publisher after the H.264 one left")
}

// joinRecvonly connects a recvonly sora-js-sdk page to this server.
func (s *recServer) joinRecvonly(t *testing.T, name, channel string) *member {
	t.Helper()
	p := openPage(t)
	var res connectResult
	args := connectArgs{SignalingURL: s.ws, ChannelID: channel, Role: "recvonly", Metadata: map[string]any{"name": name}}
	if err := p.call("connect", args, &res); err != nil || res.ConnectionID == "" {
		t.Fatalf("%s connect: %v %+v", name, err, res)
	}
	return &member{t: t, name: name, p: p, id: res.ConnectionID, role: "recvonly"}
}
