package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// slowCreated answers session.created for a channel only after its
// delay and adds authExtra's fields to every auth reply; otherwise it
// passes every webhook on to a hookLog.
type slowCreated struct {
	hooks     *hookLog
	delay     map[string]time.Duration // by channel_id
	authExtra map[string]any
}

func (s slowCreated) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var m map[string]any
	_ = json.Unmarshal(body, &m)
	if d := s.delay[fmt.Sprint(m["channel_id"])]; m["type"] == "session.created" && d > 0 {
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return
		}
	}
	r.Body = io.NopCloser(strings.NewReader(string(body)))
	if r.URL.Path != "/auth" || len(s.authExtra) == 0 {
		s.hooks.ServeHTTP(w, r)
		return
	}
	rec := httptest.NewRecorder()
	s.hooks.ServeHTTP(rec, r)
	var reply map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &reply)
	for k, v := range s.authExtra {
		reply[k] = v
	}
	_ = json.NewEncoder(w).Encode(reply)
}

// startSlowServer is startRecServer with session.created answered late,
// auth replies extended and a webhook time-out of 3 s.
func startSlowServer(t *testing.T, hooks *hookLog, delay map[string]time.Duration, authExtra map[string]any) *recServer {
	t.Helper()
	dir := t.TempDir()
	s := &recServer{t: t, hooks: hooks, receiver: httptest.NewServer(slowCreated{hooks: hooks, delay: delay, authExtra: authExtra}),
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
webhook_timeout = 3 s
log_level = warn
shutdown_timeout = 10 s
`, mediaAddress, freeUDPPort(t), s.archive, s.tmp, s.receiver.URL, s.receiver.URL, s.receiver.URL))
	s.start()
	t.Cleanup(func() { s.stop(syscall.SIGTERM) })
	return s
}

// TestSessionCreatedBeforeOffer checks seed 002's order: the reply to
// session.created is applied before the first connection's offer, so
// recording.started comes first and the recording holds the session's
// first seconds; session_metadata shows in GetSession. A reply slower
// than the webhook time-out is not waited for longer: the session goes
// on unrecorded.
func TestSessionCreatedBeforeOffer(t *testing.T) {
	const recorded, late = "gate-recorded", "gate-late"
	const delay = 1500 * time.Millisecond
	reply := `{"session_metadata":{"room":"gate"},"recording":true}`
	hooks := &hookLog{sessionReply: map[string]string{recorded: reply, late: reply}}
	srv := startSlowServer(t, hooks, map[string]time.Duration{recorded: delay, late: 10 * time.Second}, nil)

	dialed := time.Now()
	pub := startReplay(t, srv.ws, recorded, "VP8", "vp8_opus.rtpdump")
	joined := time.Now()
	id := pub.client.ConnectionID()
	started := hooks.waitHook(t, "recording.started", 5*time.Second, func(webhook) bool { return true })
	if !started.At.Before(joined) || joined.Sub(dialed) < delay {
		t.Errorf("recording.started at %v; the publisher dialed at %v and joined at %v: want its offer after the reply (%v) and recording.started",
			started.At.Format(time.StampMicro), dialed.Format(time.StampMicro), joined.Format(time.StampMicro), delay)
	}
	if auth, created := hooks.waitHook(t, "auth", time.Second, func(w webhook) bool { return w.Body["connection_id"] == id }),
		hooks.waitHook(t, "connection.created", 5*time.Second, func(w webhook) bool { return w.Body["connection_id"] == id }); !auth.At.Before(started.At) || !started.At.Before(created.At) {
		t.Errorf("auth at %v, recording.started at %v, connection.created at %v: want this order",
			auth.At.Format(time.StampMicro), started.At.Format(time.StampMicro), created.At.Format(time.StampMicro))
	}
	var sess map[string]any
	srv.api(t, "Sora_20231220.GetSession", map[string]any{"channel_id": recorded}, &sess)
	if meta, _ := sess["session_metadata"].(map[string]any); meta["room"] != "gate" || sess["recording"] == nil {
		t.Errorf("GetSession: session_metadata %v, recording %v", sess["session_metadata"], sess["recording"])
	}

	time.Sleep(5 * time.Second)
	pub.cancel()
	pub.done.Wait()
	_ = pub.client.Close()
	stopped := time.Now()
	hooks.waitHook(t, "archive.available", 30*time.Second, func(w webhook) bool { return w.Body["connection_id"] == id })
	path := filepath.Join(srv.archive, started.data("recording_id"), "archive-"+id+".webm")
	checkMedia(t, path, stopped.Sub(joined), 700*time.Millisecond)

	lateStart := time.Now()
	startReplay(t, srv.ws, late, "VP8", "vp8_opus.rtpdump")
	if waited := time.Since(lateStart); waited < 3*time.Second || waited > 6*time.Second {
		t.Errorf("a session whose session.created reply is late held its first connection %v, want the 3 s time-out", waited)
	}
	var lateSess map[string]any
	srv.api(t, "Sora_20231220.GetSession", map[string]any{"channel_id": late}, &lateSess)
	if lateSess["recording"] != nil || lateSess["session_metadata"] != nil {
		t.Errorf("a late reply was applied: %v", lateSess)
	}
}
