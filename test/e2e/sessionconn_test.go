package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kiroku-sfu/kiroku/loadgen"
)

// TestSessionListsDepartedConnections checks Sora's session object and
// the connection's settings end to end: a publisher whose auth webhook
// gives video_bit_rate leaves a recorded session that goes on; GetSession
// and ListSessions still list it with connection_destroyed_timestamp and
// its video_bit_rate, and its archive JSON and connection.destroyed
// carry the bit rate.
func TestSessionListsDepartedConnections(t *testing.T) {
	const channel = "departed"
	hooks := &hookLog{sessionReply: map[string]string{channel: `{"recording":true}`}}
	srv := startSlowServer(t, hooks, nil, map[string]any{"video_bit_rate": 1200})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	viewer, err := loadgen.Dial(ctx, loadgen.ClientConfig{URL: srv.ws, Channel: channel, Role: loadgen.RoleRecvonly,
		Label: "viewer", LocalAddress: clientAddress})
	if err != nil {
		t.Fatalf("viewer: %v", err)
	}
	defer func() { _ = viewer.Close() }()
	pub := startReplay(t, srv.ws, channel, "VP8", "vp8_opus.rtpdump")
	id := pub.client.ConnectionID()
	started := hooks.waitHook(t, "recording.started", 5*time.Second, func(webhook) bool { return true })
	time.Sleep(3 * time.Second)
	pub.cancel()
	pub.done.Wait()
	_ = pub.client.Close()
	destroyed := hooks.waitHook(t, "connection.destroyed", 10*time.Second, func(w webhook) bool { return w.Body["connection_id"] == id })
	if destroyed.data("video_bit_rate") != "1200" || destroyed.data("total_sent_bytes") == "" || destroyed.data("channel_connections") == "" {
		t.Errorf("connection.destroyed data: %v", destroyed.Body["data"])
	}

	var sess struct {
		Connections []map[string]any `json:"connections"`
	}
	srv.api(t, "Sora_20231220.GetSession", map[string]any{"channel_id": channel}, &sess)
	var list []struct {
		ChannelID   string           `json:"channel_id"`
		Connections []map[string]any `json:"connections"`
	}
	srv.api(t, "Sora_20231220.ListSessions", nil, &list)
	if len(list) != 1 || len(list[0].Connections) != len(sess.Connections) {
		t.Fatalf("ListSessions %+v, GetSession %+v", list, sess)
	}
	found := map[string]map[string]any{}
	for _, c := range sess.Connections {
		found[fmt.Sprint(c["connection_id"])] = c
	}
	gone, live := found[id], found[viewer.ConnectionID()]
	if gone == nil || gone["connection_destroyed_timestamp"] == nil || gone["video_bit_rate"] != float64(1200) {
		t.Errorf("the departed publisher in GetSession: %v", gone)
	}
	if live == nil || live["connection_destroyed_timestamp"] != nil {
		t.Errorf("the live viewer in GetSession: %v", live)
	}

	rid := started.data("recording_id")
	hooks.waitHook(t, "archive.available", 30*time.Second, func(w webhook) bool { return w.Body["connection_id"] == id })
	raw, err := os.ReadFile(filepath.Join(srv.archive, rid, "archive-"+id+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var meta map[string]any
	if err := json.Unmarshal(raw, &meta); err != nil || meta["video_bit_rate"] != float64(1200) {
		t.Errorf("archive JSON video_bit_rate: %v (%v)", meta["video_bit_rate"], err)
	}
}
