package webhooks

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// receiver is a test webhook endpoint on 127.0.0.1 that records calls and
// answers with a scripted status.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	calls  []recorded
	status func(n int) int // status for the n-th call (0-based)
	reply  string
	delay  time.Duration
}

type recorded struct {
	Type    string
	Header  http.Header
	Payload map[string]any
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{status: func(int) int { return 200 }}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		var p map[string]any
		_ = json.Unmarshal(body, &p)
		r.mu.Lock()
		n := len(r.calls)
		typ, _ := p["type"].(string)
		r.calls = append(r.calls, recorded{Type: typ, Header: req.Header.Clone(), Payload: p})
		status, reply, delay := r.status(n), r.reply, r.delay
		r.mu.Unlock()
		time.Sleep(delay)
		w.WriteHeader(status)
		_, _ = io.WriteString(w, reply)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) types() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, c := range r.calls {
		out = append(out, c.Type)
	}
	return out
}

func testClient(t *testing.T, mutate func(*Config)) *Client {
	t.Helper()
	cfg := DefaultConfig()
	cfg.RetryInterval = 5 * time.Millisecond
	cfg.MaxRetryInterval = 20 * time.Millisecond
	cfg.Timeout = 500 * time.Millisecond
	mutate(&cfg)
	c, err := New(cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

func TestAuthCallAllowsDeniesAndFailsClosed(t *testing.T) {
	for _, tc := range []struct {
		name    string
		status  int
		reply   string
		delay   time.Duration
		allowed bool
		wantErr bool
	}{
		{"allowed with overrides", 200, `{"allowed":true,"client_id":"c1","recording_block":true,"metadata":{"a":1}}`, 0, true, false},
		{"denied", 200, `{"allowed":false,"reason":"nope"}`, 0, false, false},
		{"server error", 500, ``, 0, false, true},
		{"not json", 200, `<html>`, 0, false, true},
		{"time-out", 200, `{"allowed":true}`, time.Second, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newReceiver(t)
			r.status = func(int) int { return tc.status }
			r.reply, r.delay = tc.reply, tc.delay
			c := testClient(t, func(c *Config) { c.AuthURL = r.URL })
			var reply AuthReply
			err := c.Call(context.Background(), Auth, "", map[string]any{"channel_id": "x"}, Headers(Auth, "", "", "CID"), &reply)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if reply.Allowed != tc.allowed {
				t.Errorf("allowed = %v", reply.Allowed)
			}
			if tc.name == "allowed with overrides" {
				if reply.ClientID == nil || *reply.ClientID != "c1" || reply.RecordingBlock == nil || !*reply.RecordingBlock || string(reply.Metadata) != `{"a":1}` {
					t.Errorf("overrides = %+v", reply)
				}
				if got := r.calls[0].Header.Get("sora-connection-id"); got != "CID" {
					t.Errorf("sora-connection-id = %q", got)
				}
			}
		})
	}
}

func TestUnconfiguredKindIsIgnored(t *testing.T) {
	c := testClient(t, func(*Config) {})
	if err := c.Call(context.Background(), Auth, "", struct{}{}, nil, nil); !errors.Is(err, ErrNotConfigured) {
		t.Errorf("err = %v", err)
	}
	if c.Send(Event, "connection.created", struct{}{}, nil) {
		t.Error("Send to an unconfigured URL reported queued")
	}
	if got := c.Stats().Snapshot(Event).Ignored; got != 1 {
		t.Errorf("ignored = %d", got)
	}
}

func TestSendKeepsOrderAndRetries(t *testing.T) {
	r := newReceiver(t)
	// The second call fails twice before succeeding: order must hold.
	r.status = func(n int) int {
		if n == 1 || n == 2 {
			return 503
		}
		return 200
	}
	c := testClient(t, func(c *Config) { c.EventURL = r.URL })
	for _, typ := range []string{"connection.created", "archive.started", "archive.available"} {
		p := c.Common(typ)
		if !c.Send(Event, typ, p, Headers(Event, typ, "S", "C")) {
			t.Fatalf("Send(%s) not queued", typ)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	want := "connection.created archive.started archive.started archive.started archive.available"
	if got := strings.Join(r.types(), " "); got != want {
		t.Errorf("calls = %s\nwant    %s", got, want)
	}
	if got := r.calls[0].Header.Get("sora-event-webhook-type"); got != "connection.created" {
		t.Errorf("type header = %q", got)
	}
	if s := c.Stats().Snapshot(Event); s.Successful != 3 || s.Failed != 0 {
		t.Errorf("stats = %+v", s)
	}
	// Every attempt is timed, retries included.
	if h := c.Stats().DurationsOf(Event); h.Count != 5 || h.Buckets[len(h.Buckets)-1] != 5 || h.Sum <= 0 {
		t.Errorf("durations = %+v, want 5 requests", h)
	}
	if h := c.Stats().DurationsOf(Auth); h.Count != 0 || len(h.Buckets) != len(h.Bounds) {
		t.Errorf("auth durations = %+v, want none", h)
	}
	id, _ := r.calls[0].Payload["id"].(string)
	if len(id) != 26 || r.calls[0].Payload["label"] != "WebRTC SFU Sora" {
		t.Errorf("common fields = %v", r.calls[0].Payload)
	}
}

func TestSendGivesUpAfterMaxRetries(t *testing.T) {
	r := newReceiver(t)
	r.status = func(int) int { return 500 }
	c := testClient(t, func(c *Config) { c.SessionURL = r.URL; c.MaxRetries = 2 })
	c.Send(Session, "session.destroyed", c.Common("session.destroyed"), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(r.types()); n != 3 {
		t.Errorf("attempts = %d, want 3", n)
	}
	if s := c.Stats().Snapshot(Session); s.Failed != 1 {
		t.Errorf("stats = %+v", s)
	}
}

func TestQueueOverflowDropsAndCounts(t *testing.T) {
	r := newReceiver(t)
	r.delay = 200 * time.Millisecond
	c := testClient(t, func(c *Config) { c.EventURL = r.URL; c.QueueSize = 1 })
	queued := 0
	for i := 0; i < 5; i++ {
		if c.Send(Event, "connection.updated", struct{}{}, nil) {
			queued++
		}
	}
	if queued == 5 || c.Stats().Snapshot(Event).Dropped == 0 {
		t.Errorf("queued %d of 5 with a queue of 1; dropped = %d", queued, c.Stats().Snapshot(Event).Dropped)
	}
}

func TestCallLogWritesJSONL(t *testing.T) {
	r := newReceiver(t)
	r.status = func(n int) int { return []int{200, 404}[n%2] }
	dir := t.TempDir()
	c := testClient(t, func(c *Config) { c.SessionURL = r.URL; c.LogDir = dir; c.MaxRetries = 0 })
	c.Send(Session, "session.created", c.Common("session.created"), nil)
	c.Send(Session, "session.destroyed", c.Common("session.destroyed"), nil)
	if err := c.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	all := readLines(t, filepath.Join(dir, "session_webhook.jsonl"))
	errs := readLines(t, filepath.Join(dir, "session_webhook_error.jsonl"))
	if len(all) != 2 || len(errs) != 1 {
		t.Fatalf("log lines = %d, error lines = %d", len(all), len(errs))
	}
	var rec callRecord
	if err := json.Unmarshal([]byte(errs[0]), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Status != 404 || rec.Type != "session.destroyed" || !strings.Contains(rec.Error, "404") || len(rec.Request) == 0 {
		t.Errorf("error record = %+v", rec)
	}
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}

func TestCustomCAIsHonoured(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, `{"allowed":true}`)
	}))
	defer srv.Close()
	// Without the CA the server's self-signed certificate is refused.
	c := testClient(t, func(c *Config) { c.AuthURL = srv.URL })
	if err := c.Call(context.Background(), Auth, "", struct{}{}, nil, &AuthReply{}); err == nil {
		t.Fatal("untrusted certificate accepted")
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	writePEM(t, caFile, srv.Certificate().Raw)
	c = testClient(t, func(c *Config) { c.AuthURL = srv.URL; c.CACertFile = caFile })
	var reply AuthReply
	if err := c.Call(context.Background(), Auth, "", struct{}{}, nil, &reply); err != nil || !reply.Allowed {
		t.Fatalf("with CA file: %v, %+v", err, reply)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*Config)
		ok     bool
	}{
		{"defaults", func(*Config) {}, true},
		{"bad url", func(c *Config) { c.AuthURL = "ftp://x" }, false},
		{"no host", func(c *Config) { c.EventURL = "http://" }, false},
		{"zero timeout", func(c *Config) { c.Timeout = 0 }, false},
		{"negative retries", func(c *Config) { c.MaxRetries = -1 }, false},
		{"cap below base", func(c *Config) { c.MaxRetryInterval = time.Millisecond }, false},
	} {
		cfg := DefaultConfig()
		tc.mutate(&cfg)
		if err := cfg.Validate(); (err == nil) != tc.ok {
			t.Errorf("%s: Validate() = %v", tc.name, err)
		}
	}
}

// TestCallRetrying checks the retried call used for session.created: the
// same body on every attempt, the reply of the first that succeeds, and
// an early stop when the caller no longer wants it or retries run out.
func TestCallRetrying(t *testing.T) {
	for _, tc := range []struct {
		name        string
		failures    int  // attempts answered 503 before a 200
		maxRetries  int  //
		stillWanted bool // what stillWanted reports
		wantCalls   int
		wantErr     bool
	}{
		{"first attempt", 0, 5, true, 1, false},
		{"after two failures", 2, 5, true, 3, false},
		{"retries run out", 10, 2, true, 3, true},
		{"no longer wanted", 10, 5, false, 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newReceiver(t)
			r.reply = `{"recording": true}`
			r.status = func(n int) int {
				if n < tc.failures {
					return 503
				}
				return 200
			}
			c := testClient(t, func(c *Config) { c.SessionURL = r.URL; c.MaxRetries = tc.maxRetries })
			var reply struct {
				Recording bool `json:"recording"`
			}
			err := c.CallRetrying(context.Background(), Session, "session.created", c.Common("session.created"),
				Headers(Session, "session.created", "S", ""), &reply, func() bool { return tc.stillWanted })
			if (err != nil) != tc.wantErr || (err == nil && !reply.Recording) {
				t.Fatalf("err %v reply %+v; want error %v", err, reply, tc.wantErr)
			}
			r.mu.Lock()
			defer r.mu.Unlock()
			if len(r.calls) != tc.wantCalls {
				t.Fatalf("%d calls, want %d", len(r.calls), tc.wantCalls)
			}
			for _, call := range r.calls[1:] {
				if call.Payload["id"] != r.calls[0].Payload["id"] {
					t.Errorf("retry id %v, want the first attempt's %v", call.Payload["id"], r.calls[0].Payload["id"])
				}
			}
		})
	}
}
