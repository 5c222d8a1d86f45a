package e2e

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// buildSFU builds cmd/sfu once for the whole run.
func buildSFU(t *testing.T) string {
	t.Helper()
	b := &shared.sfuBinary
	b.once.Do(func() {
		dir, err := os.MkdirTemp("", "kiroku-e2e-")
		if err != nil {
			b.err = err
			return
		}
		b.dir, b.path = dir, filepath.Join(dir, "sfu")
		out, err := exec.Command("go", "build", "-o", b.path, "../../cmd/sfu").CombinedOutput()
		if err != nil {
			b.err = fmt.Errorf("build cmd/sfu: %w\n%s", err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// freeUDPPort returns a UDP port on the media address that nothing uses
// at the moment: every SFU process a test starts needs its own udp_port
// (the in-process SFU of the suite has the default).
func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(mediaAddress)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sora.conf")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestServeConfigErrors checks that bad configuration stops the program
// with exit code 2 and a message naming file, line and key.
func TestServeConfigErrors(t *testing.T) {
	bin := buildSFU(t)
	for _, tc := range []struct{ name, conf, want string }{
		{"unknown key", "# comment\nno_such_key = 1\n", ":2: no_such_key"},
		{"bad boolean", "signaling_loopback_address_only = maybe\n", ":1: signaling_loopback_address_only"},
		{"bad duration", "signaling_ping_interval = soon\n", ":1: signaling_ping_interval"},
		{"invalid address", "ipv4_address = 300.1.1.1\n", "ipv4_address"},
		{"timer slack too long", "timer_slack = 2 s\n", "timer_slack"},
		{"turn without an address", "turn = true\n", "turn needs ipv4_address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(bin, "-config", writeConfig(t, tc.conf))
			cmd.Dir = t.TempDir() // the default archive dirs are relative to it
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 2 || !strings.Contains(string(out), tc.want) {
				t.Fatalf("err %v, output %q; want exit 2 mentioning %q", err, out, tc.want)
			}
		})
	}
}

// exampleConfig returns sora.example.conf with every key uncommented and
// the given keys replaced, proving the example loads as documented.
func exampleConfig(t *testing.T, override map[string]string) string {
	t.Helper()
	data, err := os.ReadFile("../../sora.example.conf")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	keys := 0
	for _, line := range strings.Split(string(data), "\n") {
		key, _, isKey := strings.Cut(strings.TrimPrefix(line, "# "), " =")
		if !strings.HasPrefix(line, "# ") || !isKey || strings.Contains(key, " ") {
			continue
		}
		keys++
		if v, ok := override[key]; ok {
			fmt.Fprintf(&b, "%s = %s\n", key, v)
			delete(override, key)
		} else {
			b.WriteString(strings.TrimPrefix(line, "# ") + "\n")
		}
	}
	if keys < 10 || len(override) > 0 {
		t.Fatalf("example config has %d keys; overrides not found: %v", keys, override)
	}
	return writeConfig(t, b.String())
}

// callAPI posts one HTTP API call and returns the body, failing on an
// unexpected status.
func callAPI(t *testing.T, port int, target, body string, status int) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, fmt.Sprintf("http://127.0.0.1:%d/", port), strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("x-sora-target", target)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", target, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != status {
		t.Fatalf("%s: status %d (%s), want %d", target, resp.StatusCode, out, status)
	}
	return string(out)
}

// hookReceiver records webhook types and denies auth for metadata
// {"deny": true}.
type hookReceiver struct {
	mu    sync.Mutex
	types []string
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var m map[string]any
	_ = json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&m)
	typ, _ := m["type"].(string)
	if r.URL.Path == "/auth" {
		typ = "auth"
	}
	h.mu.Lock()
	h.types = append(h.types, typ)
	h.mu.Unlock()
	if meta, _ := m["metadata"].(map[string]any); meta["deny"] == true {
		_, _ = io.WriteString(w, `{"allowed":false,"reason":"DENIED-BY-WEBHOOK"}`)
		return
	}
	_, _ = io.WriteString(w, `{"allowed":true}`)
}

func (h *hookReceiver) got() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return strings.Join(h.types, ",")
}

// TestServeSIGTERM runs the real program on the example configuration
// with webhooks to a local receiver: the auth webhook denies and admits,
// SIGTERM closes the client with 1000 SHUTDOWN, the session webhooks are
// flushed, and the program exits 0 promptly.
func TestServeSIGTERM(t *testing.T) {
	bin := buildSFU(t)
	port := freePort(t)
	hooks := &hookReceiver{}
	receiver := httptest.NewServer(hooks)
	defer receiver.Close()
	apiPort := freePort(t)
	conf := exampleConfig(t, map[string]string{"signaling_listen_port": fmt.Sprint(port),
		"api_listen_port":                 fmt.Sprint(apiPort),
		"signaling_loopback_address_only": "true", "ipv4_address": mediaAddress, "shutdown_timeout": "5 s",
		"udp_port":         fmt.Sprint(freeUDPPort(t)),
		"auth_webhook_url": receiver.URL + "/auth", "session_webhook_url": receiver.URL + "/session",
		"event_webhook_url": receiver.URL + "/event"})
	profile := filepath.Join(t.TempDir(), "cpu.pprof")
	cmd := exec.Command(bin, "-config", conf, "-cpuprofile", profile)
	cmd.Dir = t.TempDir() // the example's relative archive dirs land there
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill() }()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	want := fmt.Sprintf("ws://127.0.0.1:%d/signaling", port)
	if err != nil || !strings.Contains(line, want) {
		t.Fatalf("first output %q (%v), want it to name %s", line, err, want)
	}
	denied, _, err := websocket.DefaultDialer.Dial(want, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer denied.Close()
	_ = denied.WriteJSON(map[string]any{"type": "connect", "role": "recvonly", "channel_id": "term", "metadata": map[string]any{"deny": true}})
	var ce *websocket.CloseError
	if _, _, err := denied.ReadMessage(); !errors.As(err, &ce) || ce.Code != 4020 || ce.Text != "DENIED-BY-WEBHOOK" {
		t.Fatalf("denied connect: %v", err)
	}
	ws, _, err := websocket.DefaultDialer.Dial(want, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if err := ws.WriteJSON(map[string]any{"type": "connect", "role": "recvonly", "channel_id": "term"}); err != nil {
		t.Fatal(err)
	}
	var offer map[string]any
	if err := ws.ReadJSON(&offer); err != nil || offer["type"] != "offer" {
		t.Fatalf("no offer: %v %v", err, offer)
	}
	listed := callAPI(t, apiPort, "Sora_20201013.ListChannelConnections", `{"channel_id":"term"}`, http.StatusOK)
	if !strings.Contains(listed, fmt.Sprint(offer["connection_id"])) {
		t.Fatalf("ListChannelConnections = %s, want the connection", listed)
	}
	callAPI(t, apiPort, "Sora_20211215.ChangeMode", `{"mode":"block_new_session"}`, http.StatusOK)
	if got := callAPI(t, apiPort, "Sora_20211215.GetMode", ``, http.StatusOK); !strings.Contains(got, "block_new_session") {
		t.Fatalf("GetMode = %s", got)
	}
	callAPI(t, apiPort, "Sora_20151104.DisconnectConnection", `{"channel_id":"term","connection_id":"nope"}`, http.StatusNotFound)
	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		var m map[string]any
		err := ws.ReadJSON(&m)
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			if ce.Code != 1000 || ce.Text != "SHUTDOWN" {
				t.Fatalf("close %d %q, want 1000 SHUTDOWN", ce.Code, ce.Text)
			}
			break
		}
		if err != nil {
			t.Fatalf("read: %v", err)
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
	if d := time.Since(start); d > 6*time.Second {
		t.Fatalf("shutdown took %v", d)
	}
	if fi, err := os.Stat(profile); err != nil || fi.Size() == 0 {
		t.Fatalf("-cpuprofile left %v (%v), want a profile written at shutdown", fi, err)
	}
	// The admitted client never answered: its connection ends as
	// connection.failed, on the event webhook's own queue, so its place
	// among the session webhooks is not fixed.
	got := strings.Split(hooks.got(), ",")
	failed := slices.Index(got, "connection.failed")
	if failed >= 0 {
		got = slices.Delete(got, failed, failed+1)
	}
	if failed < 0 || strings.Join(got, ",") != "auth,auth,session.created,session.destroyed,session.vanished" {
		t.Fatalf("webhooks received: %s", hooks.got())
	}
}
