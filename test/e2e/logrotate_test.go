package e2e

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// logFiles are every log file the SFU keeps in log_dir.
var logFiles = []string{"sfu.jsonl",
	"auth_webhook.jsonl", "auth_webhook_error.jsonl", "session_webhook.jsonl", "session_webhook_error.jsonl",
	"event_webhook.jsonl", "event_webhook_error.jsonl"}

// rotateHooks answers auth webhooks: metadata {"fail": true} gets a 500
// (logged as an error), everything else is admitted.
type rotateHooks struct{ auth atomic.Int64 }

func (h *rotateHooks) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var m map[string]any
	_ = json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&m)
	if r.URL.Path == "/auth" {
		h.auth.Add(1)
		if meta, _ := m["metadata"].(map[string]any); meta["fail"] == true {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
	}
	_, _ = io.WriteString(w, `{"allowed":true}`)
}

// TestLogRotation renames every log file while the program logs, sends
// SIGHUP as logrotate does in create mode, and logs more: every file is
// created again and gets the lines after the signal, and every line
// (one per refused connection, one per auth webhook) is in the renamed
// or the new file, none lost.
func TestLogRotation(t *testing.T) {
	dir, hooks := t.TempDir(), &rotateHooks{}
	receiver := httptest.NewServer(hooks)
	defer receiver.Close()
	port := freePort(t)
	conf := writeConfig(t, fmt.Sprintf(`signaling_listen_port = %d
api_listen_port = %d
signaling_loopback_address_only = true
ipv4_address = %s
udp_port = %d
archive_dir = %s
archive_tmp_dir = %s
log_dir = %s
log_level = info
auth_webhook_url = %s/auth
session_webhook_url = %s/session
event_webhook_url = %s/event
`, port, freePort(t), mediaAddress, freeUDPPort(t), filepath.Join(dir, "archive"), filepath.Join(dir, "tmp"),
		dir, receiver.URL, receiver.URL, receiver.URL))
	cmd := exec.Command(buildSFU(t), "-config", conf)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill() }()
	if line, err := bufio.NewReader(stdout).ReadString('\n'); err != nil || !strings.Contains(line, "signaling on") {
		t.Fatalf("sfu did not start: %q %v", line, err)
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	url := fmt.Sprintf("ws://127.0.0.1:%d/signaling", port)

	var refused atomic.Int64 // connections refused by a failing auth webhook
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() { // keeps logging across the rotation
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			refuse(t, url)
			refused.Add(1)
		}
	}()
	waitFor(t, "lines before the rotation", 20*time.Second, func() string {
		if refused.Load() < 5 {
			return fmt.Sprintf("%d connections refused", refused.Load())
		}
		return ""
	})
	for _, name := range logFiles {
		if err := os.Rename(filepath.Join(dir, name), filepath.Join(dir, name+".1")); err != nil {
			t.Fatal(err)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the files created again", 10*time.Second, func() string {
		for _, name := range logFiles {
			if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
				return err.Error()
			}
		}
		return ""
	})
	after := refused.Load()
	waitFor(t, "lines after the rotation", 20*time.Second, func() string {
		if refused.Load() < after+5 {
			return fmt.Sprintf("%d connections refused", refused.Load())
		}
		return ""
	})
	close(stop)
	wg.Wait()
	admitAndLeave(t, url) // a session: session webhooks

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
	n := refused.Load()
	for _, tc := range []struct {
		file, match string
		want        int64
	}{
		{"sfu.jsonl", `"msg":"closing signaling connection"`, n},
		{"auth_webhook.jsonl", `"kind":"auth"`, hooks.auth.Load()},
		{"auth_webhook_error.jsonl", `"kind":"auth"`, n},
		{"session_webhook.jsonl", `"type":"session.created"`, 1},
	} {
		old, cur := countLines(t, filepath.Join(dir, tc.file+".1"), tc.match), countLines(t, filepath.Join(dir, tc.file), tc.match)
		if old+cur != tc.want || cur == 0 || (tc.want > 1 && old == 0) {
			t.Errorf("%s: %d lines %s in the renamed file and %d in the new one, want %d in all, some in each",
				tc.file, old, tc.match, cur, tc.want)
		}
	}
}

// refuse connects with an auth webhook that fails and waits for the
// close.
func refuse(t *testing.T, url string) {
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Error(err)
		return
	}
	defer ws.Close()
	_ = ws.WriteJSON(map[string]any{"type": "connect", "role": "recvonly", "channel_id": "rotate",
		"metadata": map[string]any{"fail": true}})
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	var ce *websocket.CloseError
	if _, _, err := ws.ReadMessage(); !errors.As(err, &ce) || ce.Code < 4000 {
		t.Errorf("connect with a failing auth webhook: %v, want a 4xxx close", err)
	}
}

// admitAndLeave connects a recvonly client until its offer, then leaves.
func admitAndLeave(t *testing.T, url string) {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if err := ws.WriteJSON(map[string]any{"type": "connect", "role": "recvonly", "channel_id": "rotate-ok"}); err != nil {
		t.Fatal(err)
	}
	var offer map[string]any
	if err := ws.ReadJSON(&offer); err != nil || offer["type"] != "offer" {
		t.Fatalf("no offer: %v %v", err, offer)
	}
}

// countLines counts the lines of path that contain match.
func countLines(t *testing.T, path, match string) int64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, match) {
			n++
		}
	}
	return n
}

// TestUploaderLogRotation renames the uploader's log file and sends
// SIGHUP, five times: each SIGHUP's own line ("configuration reloaded")
// is in the file created by that SIGHUP, the lines before it in the
// renamed one, none lost.
func TestUploaderLogRotation(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "uploader")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/uploader").CombinedOutput(); err != nil {
		t.Fatalf("build cmd/uploader: %v\n%s", err, out)
	}
	archiveDir, logDir := filepath.Join(dir, "archive"), filepath.Join(dir, "log")
	for _, d := range []string{archiveDir, logDir} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	conf := writeConfig(t, fmt.Sprintf(`archive_dir_full_path = %s
object_storage_endpoint = http://127.0.0.1:%d
object_storage_bucket_name = rotate
object_storage_access_key_id = k
object_storage_secret_access_key = s
metrics_listen_address =
log_dir = %s
log_name = up.jsonl
`, archiveDir, freePort(t), logDir))
	cmd := exec.Command(bin, "-config", conf)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill() }()
	path := filepath.Join(logDir, "up.jsonl")
	waitLine := func(what, match string) {
		waitFor(t, what, 10*time.Second, func() string {
			if n, _ := os.ReadFile(path); !strings.Contains(string(n), match) {
				return fmt.Sprintf("%q in the log so far", n)
			}
			return ""
		})
	}
	waitLine("uploader started", "uploader started")
	const rotations = 5
	for i := 1; i <= rotations; i++ {
		if err := os.Rename(path, fmt.Sprintf("%s.%d", path, i)); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		waitLine(fmt.Sprintf("rotation %d", i), "configuration reloaded")
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
	for i := 1; i <= rotations+1; i++ {
		name, wantReloads, wantStarted := fmt.Sprintf("%s.%d", path, i), int64(1), int64(0)
		switch i {
		case 1:
			wantReloads, wantStarted = 0, 1
		case rotations + 1:
			name = path
		}
		if got := countLines(t, name, `"msg":"configuration reloaded"`); got != wantReloads {
			t.Errorf("%s: %d reload lines, want %d", filepath.Base(name), got, wantReloads)
		}
		if got := countLines(t, name, `"msg":"uploader started"`); got != wantStarted {
			t.Errorf("%s: %d start lines, want %d", filepath.Base(name), got, wantStarted)
		}
	}
}
