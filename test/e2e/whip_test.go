package e2e

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kiroku-sfu/kiroku/loadgen"
	"github.com/kiroku-sfu/kiroku/test/judge"
)

// whipEndpoint is the WHIP (or WHEP) URL of a channel on the server whose
// signaling WebSocket is ws.
func whipEndpoint(ws, protocol, channel string) string {
	return strings.Replace(strings.TrimSuffix(ws, "/signaling"), "ws://", "http://", 1) + "/" + protocol + "/" + channel
}

// startWHIPReplay publishes the fixture capture name over WHIP, as OBS or
// a hardware encoder would, until the test ends or stop is called.
func startWHIPReplay(t *testing.T, endpoint, codec, name string) (*loadgen.Client, func()) {
	t.Helper()
	packets := loadCapture(t, name)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	client, err := loadgen.Dial(ctx, loadgen.ClientConfig{URL: endpoint, WHIP: true, Token: "obs-token",
		Role: loadgen.RoleSendonly, LocalAddress: clientAddress, VideoCodec: codec, Audio: true})
	if err != nil {
		t.Fatalf("WHIP publisher: %v", err)
	}
	run, halt := context.WithCancel(context.Background())
	r := &replayPublisher{client: client, cancel: halt}
	r.done.Add(1)
	go func() { defer r.done.Done(); r.loop(run, packets) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			r.cancel()
			r.done.Wait()
			if err := client.Close(); err != nil {
				t.Errorf("close WHIP publisher: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return client, stop
}

// TestWHIPRecording publishes H.264 high profile and H.265 over WHIP, as
// OBS sends them, into a channel recorded from session.created: each is
// a connection like any other (auth with whip and the bearer token,
// event webhooks, archive and JSON), the disconnect API ends one and
// its resource is gone, DELETE ends the other.
func TestWHIPRecording(t *testing.T) {
	const channel = "whip-rec"
	hooks := &hookLog{sessionReply: map[string]string{channel: `{"recording":true}`}}
	srv := startRecServer(t, hooks, "default_recording_format = mp4\n")
	endpoint := whipEndpoint(srv.ws, "whip", channel)
	h264, stopH264 := startWHIPReplay(t, endpoint, "H264", "h264_high_opus.rtpdump")
	h265, stopH265 := startWHIPReplay(t, endpoint, "H265", "h265_opus.rtpdump")
	for _, c := range []*loadgen.Client{h264, h265} {
		if c.ConnectionID() == "" || !strings.Contains(c.Resource(), "/whip-resource/") {
			t.Fatalf("WHIP answer: connection %q, resource %q", c.ConnectionID(), c.Resource())
		}
		auth := hooks.waitHook(t, "auth", 5*time.Second, func(w webhook) bool { return w.Body["connection_id"] == c.ConnectionID() })
		meta, _ := auth.Body["metadata"].(map[string]any)
		if auth.Body["whip"] != true || auth.Body["role"] != "sendonly" || meta["access_token"] != "obs-token" {
			t.Fatalf("auth webhook of a WHIP publisher: %v", auth.Body)
		}
		hooks.waitHook(t, "connection.created", 5*time.Second, func(w webhook) bool { return w.Body["connection_id"] == c.ConnectionID() })
	}
	started := hooks.waitHook(t, "recording.started", 10*time.Second, func(webhook) bool { return true })
	rid := started.data("recording_id")
	time.Sleep(6 * time.Second)

	srv.api(t, "Sora_20151104.DisconnectConnection", map[string]any{"channel_id": channel, "connection_id": h264.ConnectionID()}, nil)
	hooks.waitHook(t, "connection.destroyed", 10*time.Second, func(w webhook) bool { return w.Body["connection_id"] == h264.ConnectionID() })
	waitFor(t, "the disconnected WHIP resource gone", 5*time.Second, func() string {
		req, _ := http.NewRequest(http.MethodPatch, h264.Resource(), strings.NewReader("a=end-of-candidates\r\n"))
		req.Header.Set("Content-Type", "application/trickle-ice-sdpfrag")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err.Error()
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			return resp.Status
		}
		return ""
	})
	stopH264()
	stopH265() // DELETE
	hooks.waitHook(t, "connection.destroyed", 10*time.Second, func(w webhook) bool { return w.Body["connection_id"] == h265.ConnectionID() })

	for _, tc := range []struct {
		client         *loadgen.Client
		codec, profile string
	}{{h264, "H264", "High"}, {h265, "H265", "Main"}} {
		id := tc.client.ConnectionID()
		hooks.waitHook(t, "archive.available", 30*time.Second, func(w webhook) bool {
			return w.data("recording_id") == rid && w.Body["connection_id"] == id
		})
		path := filepath.Join(srv.archive, rid, "archive-"+id+".mp4")
		checkCodecFile(t, path, tc.codec, 6*time.Second)
		if p, err := judge.ProbeFile(path); err == nil {
			if v, _ := p.Stream("video"); v.Profile != tc.profile {
				t.Errorf("%s: profile %q, want %q", filepath.Base(path), v.Profile, tc.profile)
			}
		}
		if _, err := os.Stat(filepath.Join(srv.archive, rid, "archive-"+id+".json")); err != nil {
			t.Errorf("archive JSON of the WHIP publisher: %v", err)
		}
	}
}
