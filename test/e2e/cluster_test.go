package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// clusterTTL is the e2e cluster's channel claim TTL.
const clusterTTL = 5 * time.Second

// clusterNode is cmd/sfu with cluster = true on fixed ports (its
// external_signaling_url must stay valid across a restart).
type clusterNode struct {
	*recServer
	name string
}

// startClusterNode starts node name of a cluster on the NATS servers.
func startClusterNode(t *testing.T, name, natsURLs string) *clusterNode {
	t.Helper()
	dir := t.TempDir()
	hooks := &hookLog{}
	s := &recServer{t: t, hooks: hooks, receiver: httptest.NewServer(hooks),
		archive: filepath.Join(dir, "archive"), tmp: filepath.Join(dir, "archive_tmp"), apiPort: freePort(t)}
	t.Cleanup(s.receiver.Close)
	port := freePort(t)
	s.ws = fmt.Sprintf("ws://127.0.0.1:%d/signaling", port)
	s.conf = writeConfig(t, fmt.Sprintf(`signaling_loopback_address_only = true
signaling_listen_port = %d
api_listen_port = %d
ipv4_address = %s
udp_port = %d
archive_dir = %s
archive_tmp_dir = %s
auth_webhook_url = %s/auth
session_webhook_url = %s/session
event_webhook_url = %s/event
log_level = warn
shutdown_timeout = 10 s
cluster = true
cluster_nats_url = %s
node_name = %s
external_signaling_url = %s
cluster_channel_claim_ttl = %d s
cluster_kv_replicas = 3
cluster_request_timeout = 1 s
`, port, s.apiPort, mediaAddress, freeUDPPort(t), s.archive, s.tmp, s.receiver.URL, s.receiver.URL, s.receiver.URL,
		natsURLs, name, s.ws, int(clusterTTL/time.Second)))
	n := &clusterNode{recServer: s, name: name}
	n.run()
	t.Cleanup(func() { s.stop(syscall.SIGTERM) })
	return n
}

// run starts the program on its configured ports and waits until it serves.
func (n *clusterNode) run() {
	t := n.t
	t.Helper()
	n.cmd = exec.Command(buildSFU(t), "-config", n.conf)
	stdout, err := n.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	n.cmd.Stderr = os.Stderr
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if line, err := bufio.NewReader(stdout).ReadString('\n'); err != nil || !strings.Contains(line, "signaling on") {
		t.Fatalf("%s did not start: %q %v", n.name, line, err)
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
}

// served reports whether this node announced connection id (its
// connection.created webhook).
func (n *clusterNode) served(id string) bool {
	return len(n.hooks.matching(func(w webhook) bool {
		return w.Type == "connection.created" && w.Body["connection_id"] == id
	})) > 0
}

// servedBy waits until one of the nodes announced the connection and
// returns that node's name.
func servedBy(t *testing.T, id string, nodes ...*clusterNode) string {
	t.Helper()
	var name string
	waitFor(t, "connection.created of "+id, 10*time.Second, func() string {
		for _, n := range nodes {
			if n.served(id) {
				name = n.name
				return ""
			}
		}
		return "no node announced it"
	})
	return name
}

// tryJoin connects a sendrecv VP8 page through node's signaling URL and
// returns the member, or the SDK's error.
func tryJoin(t *testing.T, n *clusterNode, name, channel string) (*member, connectResult) {
	t.Helper()
	p := openPage(t)
	var res connectResult
	args := connectArgs{SignalingURL: n.ws, ChannelID: channel, Role: "sendrecv", Codec: "VP8",
		Metadata: map[string]any{"name": name}, Audio: true, Video: true}
	if err := p.call("connect", args, &res); err != nil {
		t.Fatalf("%s connect: %v", name, err)
	}
	if res.ConnectionID == "" {
		_ = p.close()
		return nil, res
	}
	return &member{t: t, name: name, p: p, id: res.ConnectionID, role: "sendrecv"}, res
}

func listIDs(t *testing.T, body string) []string {
	t.Helper()
	var conns []struct {
		ConnectionID string `json:"connection_id"`
	}
	if err := json.Unmarshal([]byte(body), &conns); err != nil {
		t.Fatalf("%v in %s", err, body)
	}
	var ids []string
	for _, c := range conns {
		ids = append(ids, c.ConnectionID)
	}
	return ids
}

// apiStatus posts one HTTP API call and returns its body and status.
func apiStatus(t *testing.T, port int, target, body string) (string, int) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, fmt.Sprintf("http://127.0.0.1:%d/", port), strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("x-sora-target", target)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err.Error(), 0
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return string(out), resp.StatusCode
}
