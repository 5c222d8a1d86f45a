package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/kiroku-sfu/kiroku/cluster/natstest"
)

// testNode is one kiroku node of a cluster test, served in-process.
type testNode struct {
	name, ws, api string
	stop          func()
}

func freePort(t *testing.T, network string) int {
	t.Helper()
	if network == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startClusterNode serves a node with cluster = true on natsURLs until
// the test ends (or stop is called).
func startClusterNode(t *testing.T, name, natsURLs string) *testNode {
	t.Helper()
	dir := t.TempDir()
	sig, apiPort := freePort(t, "tcp"), freePort(t, "tcp")
	n := &testNode{name: name, ws: fmt.Sprintf("ws://127.0.0.1:%d/signaling", sig), api: fmt.Sprintf("http://127.0.0.1:%d/", apiPort)}
	conf := fmt.Sprintf(`signaling_listen_port = %d
signaling_loopback_address_only = true
api_listen_port = %d
ipv4_address = 127.0.0.1
udp_port = %d
archive_dir = %s
archive_tmp_dir = %s
dev_tools = false
cluster = true
cluster_nats_url = %s
node_name = %s
external_signaling_url = %s
cluster_channel_claim_ttl = 3 s
cluster_request_timeout = 1 s
`, sig, apiPort, freePort(t, "udp"), filepath.Join(dir, "archive"), filepath.Join(dir, "tmp"), natsURLs, name, n.ws)
	path := filepath.Join(dir, "sora.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := LoadSettings(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	started := &lockedBuffer{}
	go func() { served <- Serve(ctx, st, slog.New(slog.DiscardHandler), started) }()
	var once bool
	n.stop = func() {
		if once {
			return
		}
		once = true
		cancel()
		select {
		case err := <-served:
			if err != nil {
				t.Errorf("%s: Serve: %v", name, err)
			}
		case <-time.After(20 * time.Second):
			t.Errorf("%s: Serve did not return", name)
		}
	}
	t.Cleanup(n.stop)
	waitUntil(t, name+" serving", func() bool { return strings.Contains(started.String(), "HTTP API on") })
	return n
}

// connect sends a connect for channel and returns the first message
// (offer or redirect) or the close error.
func connect(t *testing.T, url, channel string, redirected bool) (*websocket.Conn, map[string]any, error) {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ws.Close() })
	msg := map[string]any{"type": "connect", "role": "sendrecv", "channel_id": channel, "metadata": nil,
		"sora_client": "test", "audio": true, "video": true}
	if redirected {
		msg["redirect"] = true
	}
	if err := ws.WriteJSON(msg); err != nil {
		t.Fatal(err)
	}
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		var m map[string]any
		if err := ws.ReadJSON(&m); err != nil {
			return ws, nil, err
		}
		if m["type"] == "offer" || m["type"] == "redirect" {
			return ws, m, nil
		}
	}
}

func apiCall(t *testing.T, url, target, body string) (int, string, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("x-sora-target", target)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// TestClusterNodes serves three nodes on one NATS server: a channel's
// first connect is served where it arrives, a connect for it on another
// node is redirected there, and a redirected one is not bounced again;
// the API of any node answers for the channel and lists the cluster; a
// blocked node sends a new channel to the least-loaded normal node; a
// node that stops releases its channels.
func TestClusterNodes(t *testing.T) {
	srv := natstest.Start(t)
	n1, n2, n3 := startClusterNode(t, "node1", srv.URL), startClusterNode(t, "node2", srv.URL), startClusterNode(t, "node3", srv.URL)
	if _, m, err := connect(t, n1.ws, "x", false); err != nil || m["type"] != "offer" {
		t.Fatalf("x on node1: %v %v", m, err)
	}
	if _, m, err := connect(t, n2.ws, "x", false); err != nil || m["type"] != "redirect" || m["location"] != n1.ws {
		t.Fatalf("x on node2: %v %v; want redirect to %s", m, err, n1.ws)
	}
	_, _, err := connect(t, n2.ws, "x", true)
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != 4051 {
		t.Fatalf("redirected x on node2: %v; want close 4051", err)
	}
	waitUntil(t, "three nodes listed", func() bool {
		_, body, _ := apiCall(t, n2.api, "Sora_20211215.ListClusterNodes", "")
		var nodes []map[string]any
		return json.Unmarshal([]byte(body), &nodes) == nil && len(nodes) == 3
	})
	code, body, _ := apiCall(t, n3.api, "Sora_20201013.ListChannelConnections", `{"channel_id":"x"}`)
	var conns []map[string]any
	if code != 200 || json.Unmarshal([]byte(body), &conns) != nil || len(conns) != 1 {
		t.Fatalf("ListChannelConnections x on node3: %d %s", code, body)
	}
	code, body, hdr := apiCall(t, n3.api, "Sora_20231220.ListSessions", ``)
	if code != 200 || !strings.Contains(body, `"node_name":"node1"`) || !strings.Contains(body, `"external_signaling_url":"`+n1.ws+`"`) ||
		hdr.Get("X-Kiroku-Unanswered-Nodes") != "" {
		t.Fatalf("ListSessions on node3: %d %s %v", code, body, hdr)
	}
	if code, body, _ := apiCall(t, n2.api, "Sora_20211215.ChangeMode", `{"mode":"block_new_session"}`); code != 200 {
		t.Fatalf("ChangeMode: %d %s", code, body)
	}
	waitUntil(t, "node1's load in the registry", func() bool {
		_, body, _ := apiCall(t, n2.api, "Sora_20211215.ListClusterNodes", "")
		return strings.Contains(body, `"node_name":"node1","external_signaling_url":"`+n1.ws+`","mode":"normal","connections":1`)
	})
	if _, m, err := connect(t, n2.ws, "y", false); err != nil || m["type"] != "redirect" || m["location"] != n3.ws {
		t.Fatalf("new y on blocked node2: %v %v; want redirect to the least-loaded %s", m, err, n3.ws)
	}
	n1.stop()
	if _, m, err := connect(t, n3.ws, "x", false); err != nil || m["type"] != "offer" {
		t.Fatalf("x on node3 after node1 stopped: %v %v", m, err)
	}
}
