package api

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// fakeForwarder holds channel "remote" on another node and has one node
// that answers lists and one that does not.
type fakeForwarder struct{ down bool }

func (f *fakeForwarder) Forward(_ context.Context, channelID, target string, body []byte) (int, []byte, bool, error) {
	switch {
	case f.down:
		return 0, nil, false, errors.New("cluster: NATS unavailable")
	case channelID != "remote":
		return 0, nil, false, nil
	}
	return http.StatusConflict, []byte(`{"from":"node2","target":"` + target + `"}`), true, nil
}

func (f *fakeForwarder) Gather(context.Context, string, []byte) ([][]byte, []string, error) {
	return [][]byte{[]byte(`[{"channel_id":"remote","connection_id":"R1"}]`)}, []string{"node3"}, nil
}

func (f *fakeForwarder) Nodes(context.Context) ([]ClusterNode, error) {
	return []ClusterNode{{NodeName: "node1", Mode: "normal"}, {NodeName: "node2", Mode: "normal"}}, nil
}

func newClusterServer(t *testing.T, f Forwarder) (*Server, string) {
	t.Helper()
	b := &fakeBackend{mode: ModeNormal, conns: []Connection{{ChannelID: "room", ConnectionID: "C1", Role: "sendrecv"}}}
	s, err := New(Config{Forwarder: f}, b, &fakeRecorder{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv.URL
}

// TestClusterForwarding checks that a channel-scoped call for a channel
// another node holds is that node's answer, status and body unchanged;
// that a local channel is answered here; that lists gather every node's
// part and name the node that did not answer; and ListClusterNodes.
func TestClusterForwarding(t *testing.T) {
	f := &fakeForwarder{}
	s, url := newClusterServer(t, f)
	if code, body := call(t, url, "Sora_20231220.StopRecording", `{"channel_id":"remote"}`); code != 409 ||
		body != `{"from":"node2","target":"Sora_20231220.StopRecording"}` {
		t.Fatalf("forwarded: %d %s", code, body)
	}
	if code, body := call(t, url, "Sora_20201013.ListChannelConnections", `{"channel_id":"room"}`); code != 200 ||
		!strings.Contains(body, `"C1"`) {
		t.Fatalf("local channel: %d %s", code, body)
	}
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(`{}`))
	req.Header.Set("X-Sora-Target", "Sora_20201013.ListConnections")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `"C1"`) || !strings.Contains(string(body), `"R1"`) ||
		resp.Header.Get(UnansweredNodesHeader) != "node3" {
		t.Fatalf("gathered: %s, %s %q", body, UnansweredNodesHeader, resp.Header.Get(UnansweredNodesHeader))
	}
	if code, body := call(t, url, "Sora_20211215.ListClusterNodes", ``); code != 200 || !strings.Contains(body, `"node_name":"node2"`) {
		t.Fatalf("ListClusterNodes: %d %s", code, body)
	}
	// A call forwarded here is answered here, never forwarded again.
	code, reply := s.ServeForwarded(context.Background(), "Sora_20231220.GetSession", []byte(`{"channel_id":"remote"}`))
	if code != 404 || !strings.Contains(string(reply), "not_found") {
		t.Fatalf("served for another node: %d %s", code, reply)
	}
	f.down = true
	if code, body := call(t, url, "Sora_20231220.GetSession", `{"channel_id":"elsewhere"}`); code != 503 || !strings.Contains(body, "cluster_unavailable") {
		t.Fatalf("NATS down: %d %s", code, body)
	}
}

func TestListClusterNodesAlone(t *testing.T) {
	srv, _ := newTestServer(t)
	if code, _ := call(t, srv.URL, "Sora_20211215.ListClusterNodes", ``); code != 400 {
		t.Fatalf("ListClusterNodes outside a cluster: %d, want 400", code)
	}
}

// TestEveryChannelMethodIsForwarded: every method but the node-wide ones
// acts on a channel, so a call for a channel another node holds must be
// that node's answer, spotlight's included.
func TestEveryChannelMethodIsForwarded(t *testing.T) {
	nodeWide := map[string]bool{
		"Sora_20211215.ChangeMode": true, "Sora_20211215.GetMode": true, "Sora_20171010.GetStatsReport": true,
		"Sora_20211215.ListClusterNodes": true, "Sora_20201013.ListConnections": true, "Sora_20231220.ListSessions": true,
	}
	s, url := newClusterServer(t, &fakeForwarder{})
	for target := range s.routes() {
		if nodeWide[target] {
			continue
		}
		if code, body := call(t, url, target, `{"channel_id":"remote"}`); code != 409 || !strings.Contains(body, target) {
			t.Errorf("%s for a channel another node holds: %d %s, want that node's answer", target, code, body)
		}
	}
}
