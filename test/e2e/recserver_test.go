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
	"sync"
	"syscall"
	"testing"
	"time"
)

// webhook is one webhook the test receiver got.
type webhook struct {
	Type string
	At   time.Time
	Body map[string]any
}

// data returns a field of the webhook's "data" object as text.
func (w webhook) data(key string) string {
	d, _ := w.Body["data"].(map[string]any)
	if v, ok := d[key]; ok && v != nil {
		return fmt.Sprint(v)
	}
	return ""
}

// hookLog is a webhook endpoint for the recording tests. Auth allows
// everyone; metadata {"block": true} gets recording_block. The reply to
// session.created is looked up by channel_id in sessionReply.
type hookLog struct {
	mu           sync.Mutex
	hooks        []webhook
	sessionReply map[string]string
}

func (h *hookLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var m map[string]any
	_ = json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&m)
	typ, _ := m["type"].(string)
	if r.URL.Path == "/auth" {
		typ = "auth"
	}
	h.mu.Lock()
	h.hooks = append(h.hooks, webhook{Type: typ, At: time.Now(), Body: m})
	reply := h.sessionReply[fmt.Sprint(m["channel_id"])]
	h.mu.Unlock()
	switch {
	case typ == "auth":
		meta, _ := m["metadata"].(map[string]any)
		block := meta["block"] == true
		_, _ = fmt.Fprintf(w, `{"allowed":true,"recording_block":%t,"event_metadata":{"by":"auth"}}`, block)
	case typ == "session.created" && reply != "":
		_, _ = io.WriteString(w, reply)
	default:
		_, _ = io.WriteString(w, `{}`)
	}
}

// matching returns the webhooks for which keep is true, in arrival order.
func (h *hookLog) matching(keep func(webhook) bool) []webhook {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []webhook
	for _, w := range h.hooks {
		if keep(w) {
			out = append(out, w)
		}
	}
	return out
}

// ofRecording returns the recording's webhooks.
func (h *hookLog) ofRecording(rid string) []webhook {
	return h.matching(func(w webhook) bool { return w.data("recording_id") == rid })
}

// waitHook waits for the first webhook of a type that keep accepts.
func (h *hookLog) waitHook(t *testing.T, typ string, timeout time.Duration, keep func(webhook) bool) webhook {
	t.Helper()
	var found webhook
	waitFor(t, typ, timeout, func() string {
		got := h.matching(func(w webhook) bool { return w.Type == typ && keep(w) })
		if len(got) == 0 {
			return "not received"
		}
		found = got[0]
		return ""
	})
	return found
}

// recServer is cmd/sfu running as a child process with recording on and
// its webhooks going to a hookLog.
type recServer struct {
	t        *testing.T
	cmd      *exec.Cmd
	ws       string
	apiPort  int
	conf     string
	archive  string // archive_dir
	tmp      string // archive_tmp_dir
	hooks    *hookLog
	receiver *httptest.Server
}

// startRecServer starts the SFU with the given sora.conf lines added.
func startRecServer(t *testing.T, hooks *hookLog, extra string) *recServer {
	t.Helper()
	dir := t.TempDir()
	s := &recServer{t: t, hooks: hooks, receiver: httptest.NewServer(hooks),
		archive: filepath.Join(dir, "archive"), tmp: filepath.Join(dir, "archive_tmp")}
	t.Cleanup(s.receiver.Close)
	s.conf = writeConfig(t, fmt.Sprintf(`signaling_loopback_address_only = true
ipv4_address = %s
udp_port = %d
archive_dir = %s
archive_tmp_dir = %s
auth_webhook_url = %s/auth
session_webhook_url = %s/session
event_webhook_url = %s/event
log_level = warn
shutdown_timeout = 10 s
%s`, mediaAddress, freeUDPPort(t), s.archive, s.tmp, s.receiver.URL, s.receiver.URL, s.receiver.URL, extra))
	s.start()
	t.Cleanup(func() { s.stop(syscall.SIGTERM) })
	return s
}

// start runs the program on fresh ports and waits until it serves.
func (s *recServer) start() {
	t := s.t
	t.Helper()
	port, apiPort := freePort(t), freePort(t)
	s.cmd = exec.Command(buildSFU(t), "-config", s.conf)
	conf, err := os.ReadFile(s.conf)
	if err != nil {
		t.Fatal(err)
	}
	body := fmt.Sprintf("%s\nsignaling_listen_port = %d\napi_listen_port = %d\n", stripPorts(string(conf)), port, apiPort)
	if err := os.WriteFile(s.conf, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s.cmd.Stderr = os.Stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if line, err := bufio.NewReader(stdout).ReadString('\n'); err != nil || !strings.Contains(line, "signaling on") {
		t.Fatalf("sfu did not start: %q %v", line, err)
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	s.ws = fmt.Sprintf("ws://127.0.0.1:%d/signaling", port)
	s.apiPort = apiPort
}

// stripPorts removes the port keys of an earlier start.
func stripPorts(conf string) string {
	var keep []string
	for _, l := range strings.Split(conf, "\n") {
		if !strings.HasPrefix(l, "signaling_listen_port") && !strings.HasPrefix(l, "api_listen_port") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// stop signals the program and waits for it; a second stop does nothing.
func (s *recServer) stop(sig syscall.Signal) {
	if s.cmd == nil || s.cmd.ProcessState != nil {
		return
	}
	_ = s.cmd.Process.Signal(sig)
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		if sig == syscall.SIGTERM && err != nil {
			s.t.Errorf("sfu exit after SIGTERM: %v", err)
		}
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
		s.t.Errorf("sfu did not exit after %v", sig)
	}
}

// api calls one HTTP API method and decodes a 200 answer into out.
func (s *recServer) api(t *testing.T, target string, body any, out any) {
	t.Helper()
	raw, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	got := callAPI(t, s.apiPort, target, string(raw), http.StatusOK)
	if out != nil {
		if err := json.Unmarshal([]byte(got), out); err != nil {
			t.Fatalf("%s: %v in %s", target, err, got)
		}
	}
}

// joinAt connects a sendrecv page to this server for the test t.
func (s *recServer) joinAt(t *testing.T, name, channel, codec string, metadata map[string]any) *member {
	t.Helper()
	p := openPage(t)
	var res connectResult
	args := connectArgs{SignalingURL: s.ws, ChannelID: channel, Role: "sendrecv", Codec: codec,
		Metadata: metadata, Audio: true, Video: true}
	if err := p.call("connect", args, &res); err != nil {
		t.Fatalf("%s connect: %v", name, err)
	}
	if res.ConnectionID == "" {
		t.Fatalf("%s connect failed: %+v", name, res)
	}
	return &member{t: t, name: name, p: p, id: res.ConnectionID, role: "sendrecv"}
}
