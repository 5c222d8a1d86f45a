package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/kiroku-sfu/kiroku/cluster/natstest"
)

// TestCluster runs three NATS servers clustered with JetStream (buckets
// replicated three times) and three kiroku nodes, each with its own
// ports, archive_dir and webhook receiver, and checks issue 16's
// acceptance with sora-js-sdk pages: redirect, the API from any node,
// ListClusterNodes, a blocked node, a SIGKILLed holder, NATS failures.
func TestCluster(t *testing.T) {
	nats := natstest.StartCluster(t, 3)
	urls := natstest.URLs(nats)
	n1, n2, n3 := startClusterNode(t, "node1", urls), startClusterNode(t, "node2", urls), startClusterNode(t, "node3", urls)
	nodes := []*clusterNode{n1, n2, n3}
	waitFor(t, "three nodes registered", 20*time.Second, func() string {
		body, status := apiStatus(t, n1.apiPort, "Sora_20211215.ListClusterNodes", "")
		var listed []map[string]any
		if status != 200 || json.Unmarshal([]byte(body), &listed) != nil || len(listed) != 3 {
			return fmt.Sprintf("%d %s", status, body)
		}
		return ""
	})

	// X is published on node1; a page asking node2 for X is redirected
	// there; a page asking node3 for a new channel Y is served there.
	a := n1.joinAt(t, "a", "X", "VP8", map[string]any{"name": "a"})
	b := n2.joinAt(t, "b", "X", "VP8", map[string]any{"name": "b"})
	if got := servedBy(t, b.id, nodes...); got != "node1" {
		t.Fatalf("b asked node2 for X and was served by %s, want node1 (redirect)", got)
	}
	expectFlow(t, a, b, "VP8")
	expectFlow(t, b, a, "VP8")
	c := n3.joinAt(t, "c", "Y", "VP8", map[string]any{"name": "c"})
	if got := servedBy(t, c.id, nodes...); got != "node3" {
		t.Fatalf("c asked node3 for new Y and was served by %s", got)
	}

	// The API of node3 and node2 answers for X and for the cluster.
	var rec recordingInfo
	n3.api(t, "Sora_20231220.StartRecording", map[string]any{"channel_id": "X"}, &rec)
	time.Sleep(3 * time.Second)
	n3.api(t, "Sora_20231220.StopRecording", map[string]any{"channel_id": "X"}, nil)
	n1.hooks.waitHook(t, "recording.report", 20*time.Second, func(w webhook) bool { return w.data("recording_id") == rec.RecordingID })
	for _, m := range []*member{a, b} {
		if _, err := os.Stat(filepath.Join(n1.archive, rec.RecordingID, "archive-"+m.id+".webm")); err != nil {
			t.Errorf("recording of %s asked on node3 is not in node1's archive_dir: %v", m.name, err)
		}
	}
	verifyRecording(t, filepath.Join(n1.archive, rec.RecordingID))
	var listed []map[string]any
	n2.api(t, "Sora_20211215.ListClusterNodes", map[string]any{}, &listed)
	if len(listed) != 3 {
		t.Errorf("ListClusterNodes on node2: %v, want three nodes", listed)
	}
	ids := listIDs(t, callAPI(t, n3.apiPort, "Sora_20201013.ListChannelConnections", `{"channel_id":"X"}`, 200))
	if !slices.Contains(ids, a.id) || !slices.Contains(ids, b.id) {
		t.Errorf("ListChannelConnections X on node3: %v, want %s and %s", ids, a.id, b.id)
	}

	// node2 in block_new_session sends a new channel elsewhere.
	n2.api(t, "Sora_20211215.ChangeMode", map[string]any{"mode": "block_new_session"}, nil)
	d := n2.joinAt(t, "d", "Z", "VP8", map[string]any{"name": "d"})
	if got := servedBy(t, d.id, nodes...); got == "node2" {
		t.Errorf("blocked node2 served the new channel Z")
	}
	n2.api(t, "Sora_20211215.ChangeMode", map[string]any{"mode": "normal"}, nil)

	killHolder(t, n1, n2, n3, a, b)
	natsFailures(t, nats, n3)
}

// killHolder SIGKILLs node1 while it records X: a page asking node2 for X
// is served within the TTL and a few seconds; node1 restarted recovers
// the recording into its archive_dir.
func killHolder(t *testing.T, n1, n2, n3 *clusterNode, a, b *member) {
	t.Helper()
	var rec recordingInfo
	n2.api(t, "Sora_20231220.StartRecording", map[string]any{"channel_id": "X"}, &rec)
	time.Sleep(3 * time.Second)
	n1.stop(syscall.SIGKILL)
	killed := time.Now()
	var e *member
	waitFor(t, "X served after node1 died", clusterTTL+10*time.Second, func() string {
		m, res := tryJoin(t, n2, "e", "X")
		if m == nil {
			return fmt.Sprintf("connect: %+v", res)
		}
		e = m
		return ""
	})
	t.Logf("X served again %v after node1 was killed (TTL %v)", time.Since(killed), clusterTTL)
	if got := servedBy(t, e.id, n2, n3); got == "" {
		t.Fatal("no node served X")
	}
	n1.run()
	dir := filepath.Join(n1.archive, rec.RecordingID)
	for _, m := range []*member{a, b} {
		var meta struct {
			Recovered bool `json:"recovered"`
		}
		raw, err := os.ReadFile(filepath.Join(dir, "archive-"+m.id+".json"))
		if err != nil || json.Unmarshal(raw, &meta) != nil || !meta.Recovered {
			t.Errorf("node1's recovered recording of %s: %v %s", m.name, err, raw)
		}
	}
	verifyRecording(t, dir)
}

// natsFailures kills one NATS server (placement and the API go on), then
// all (a session on node3 keeps flowing and recording, a new channel is
// refused with 4050), then brings them back (new channels work again).
func natsFailures(t *testing.T, nats []*natstest.Server, n3 *clusterNode) {
	t.Helper()
	nats[0].Stop()
	var f *member
	waitFor(t, "a new channel with one NATS server down", 20*time.Second, func() string {
		m, res := tryJoin(t, n3, "f", "W")
		if m == nil {
			return fmt.Sprintf("connect: %+v", res)
		}
		f = m
		return ""
	})
	g := n3.joinAt(t, "g", "W", "VP8", map[string]any{"name": "g"})
	// The API works too (a request may fail while JetStream elects a
	// leader, which nats-server's Raft starts 4 to 9 s after losing one,
	// or while the client moves to another server).
	waitFor(t, "ListClusterNodes with one NATS server down", 20*time.Second, func() string {
		body, status := apiStatus(t, n3.apiPort, "Sora_20211215.ListClusterNodes", "")
		var listed []map[string]any
		if status != 200 || json.Unmarshal([]byte(body), &listed) != nil || len(listed) != 3 {
			return fmt.Sprintf("%d %s", status, body)
		}
		return ""
	})
	var rec recordingInfo
	n3.api(t, "Sora_20231220.StartRecording", map[string]any{"channel_id": "W"}, &rec)

	for _, s := range nats {
		s.Stop()
	}
	waitFor(t, "a new channel refused without NATS", 15*time.Second, func() string {
		_, res := tryJoin(t, n3, "h", "V")
		if res.Code == nil || *res.Code != 4050 || res.Reason != "CLUSTER-UNAVAILABLE" {
			return fmt.Sprintf("connect: %+v", res)
		}
		return ""
	})
	expectFlow(t, f, g, "VP8")
	time.Sleep(2 * time.Second)
	n3.api(t, "Sora_20231220.StopRecording", map[string]any{"channel_id": "W"}, nil)
	n3.hooks.waitHook(t, "recording.report", 20*time.Second, func(w webhook) bool { return w.data("recording_id") == rec.RecordingID })
	verifyRecording(t, filepath.Join(n3.archive, rec.RecordingID))

	for _, s := range nats {
		s.RestartNoWait()
	}
	for _, s := range nats {
		s.WaitHealthy()
	}
	waitFor(t, "a new channel once NATS is back", 30*time.Second, func() string {
		if m, res := tryJoin(t, n3, "i", "V"); m == nil {
			return fmt.Sprintf("connect: %+v", res)
		}
		return ""
	})
}
