package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kiroku-sfu/kiroku/api"
	"github.com/kiroku-sfu/kiroku/archive"
	"github.com/kiroku-sfu/kiroku/sfu"
	"github.com/kiroku-sfu/kiroku/signaling"
	"github.com/kiroku-sfu/kiroku/webhooks"
)

// nopNotifier drops archive's webhooks.
type nopNotifier struct{}

func (nopNotifier) Event(string, archive.Connection, string, string, any) {}
func (nopNotifier) Session(string, string, string, any)                   {}

func newManager(t *testing.T, n archive.Notifier) *archive.Manager {
	t.Helper()
	cfg := archive.DefaultConfig()
	dir := t.TempDir()
	cfg.ArchiveDir, cfg.TmpDir = filepath.Join(dir, "archive"), filepath.Join(dir, "tmp")
	m, err := archive.NewManager(cfg, archive.Deps{Notifier: n})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

func ptr[T any](v T) *T { return &v }

// TestRecorderAPI runs the API adapter against a real manager: statuses
// map from archive's errors and the session shows its recording.
func TestRecorderAPI(t *testing.T) {
	m := newManager(t, nopNotifier{})
	r := recorderAPI{m}
	if _, err := m.SessionCreated("ch", "S1", nil); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		req  api.StartRecordingRequest
		want error
	}{
		{"no session", api.StartRecordingRequest{ChannelID: "other"}, api.ErrNotFound},
		{"split_only without split_duration", api.StartRecordingRequest{ChannelID: "ch", SplitOnly: ptr(true)}, api.ErrInvalid},
		{"unknown format", api.StartRecordingRequest{ChannelID: "ch", Format: ptr("avi")}, api.ErrInvalid},
		{"over the expire limit", api.StartRecordingRequest{ChannelID: "ch", ExpireTime: ptr(int64(86401))}, api.ErrInvalid},
		{"started", api.StartRecordingRequest{ChannelID: "ch", Format: ptr("mp4"), ExpireTime: ptr(int64(60)),
			SplitOnly: ptr(true), SplitDuration: ptr(int64(10)), Metadata: json.RawMessage(`{"k":1}`)}, nil},
		{"second start", api.StartRecordingRequest{ChannelID: "ch"}, api.ErrConflict},
	} {
		got, err := r.StartRecording(ctx, tc.req)
		if !errors.Is(err, tc.want) || (err == nil) != (tc.want == nil) {
			t.Fatalf("%s: err %v, want %v", tc.name, err, tc.want)
		}
		if err == nil && (got.RecordingID == "" || got.Format != "mp4" || got.ExpireTime != 60 ||
			!got.SplitOnly || got.SplitDuration != 10 || string(got.RecordingMetadata) != `{"k":1}` || got.ExpiredAt == 0) {
			t.Errorf("%s: recording %+v", tc.name, got)
		}
	}
	running := r.recording("ch")
	if running == nil || running.RecordingID == "" || r.recording("other") != nil {
		t.Fatalf("recording(ch) = %+v", running)
	}
	stopped, err := r.StopRecording(ctx, "ch")
	if err != nil || stopped.RecordingID != running.RecordingID {
		t.Fatalf("stop: %+v %v", stopped, err)
	}
	if r.recording("ch") != nil {
		t.Error("recording still shown after stop")
	}
	if _, err := r.StopRecording(ctx, "ch"); !errors.Is(err, api.ErrNotFound) {
		t.Errorf("second stop: %v, want not found", err)
	}
}

// fakeCore is the SFU as recordingHooks sees it: one session that can
// end, and publishers that cannot be subscribed to.
type fakeCore struct {
	mu   sync.Mutex
	live *sfu.SessionInfo
}

func (f *fakeCore) Session(string) (sfu.SessionInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.live == nil {
		return sfu.SessionInfo{}, sfu.ErrNotFound
	}
	return *f.live, nil
}

func (f *fakeCore) SetSessionMetadata(_, sessionID string, md json.RawMessage) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.live == nil || f.live.SessionID != sessionID {
		return sfu.ErrNotFound
	}
	f.live.Metadata = md
	return nil
}

func (f *fakeCore) Subscribe(string, sfu.Sink) (*sfu.Subscription, error) {
	return nil, fmt.Errorf("subscribe: %w", sfu.ErrNotFound)
}

func (f *fakeCore) RequestKeyFrame(string, string) error { return sfu.ErrNotFound }

func (f *fakeCore) end() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.live = nil
}

// typeLog is a webhook endpoint that records types in arrival order and
// asks for recording in its session.created reply.
type typeLog struct {
	mu    sync.Mutex
	types []string
}

func (l *typeLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var m struct {
		Type string `json:"type"`
	}
	_ = json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&m)
	l.mu.Lock()
	l.types = append(l.types, m.Type)
	l.mu.Unlock()
	if m.Type == "session.created" {
		_, _ = io.WriteString(w, `{"recording":true,"recording_format":"mp4"}`)
		return
	}
	_, _ = io.WriteString(w, `{}`)
}

func (l *typeLog) got() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.types)
}

// TestRecordingHooks drives the hooks like the SFU and signaling do: the
// session.created reply starts recording, a publisher is handed to the
// manager (its subscription fails: archive.failed), a viewer is not, and
// the session's end queues session.destroyed before recording.report.
func TestRecordingHooks(t *testing.T) {
	rcv := &typeLog{}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	wc := webhooks.DefaultConfig()
	wc.SessionURL, wc.EventURL, wc.Timeout = srv.URL+"/session", srv.URL+"/event", 2*time.Second
	client, err := webhooks.New(wc, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ledger := &hookLedger{client: client}
	notifier := newOrderedNotifier(archive.WebhookNotifier{Client: client}, ledger, 5*time.Second)
	m := newManager(t, notifier)
	core := &fakeCore{live: &sfu.SessionInfo{ChannelID: "ch", SessionID: "S1", CreatedAt: time.Now()}}
	h := newRecordingHooks(signaling.NewWebhooks(client, signaling.WebhookOptions{}), ledger, signaling.WebhookOptions{},
		slog.New(slog.DiscardHandler))
	h.core, h.rec = core, m

	h.SessionCreated(*core.live)
	waitUntil(t, "recording from session.created", func() bool { _, ok := m.Recording("ch"); return ok })
	pub := sfu.ConnectionInfo{ChannelID: "ch", SessionID: "S1", ConnectionID: "P1", Role: sfu.SendRecv,
		Audio: true, Video: true, VideoCodec: sfu.VP8}
	viewer := sfu.ConnectionInfo{ChannelID: "ch", SessionID: "S1", ConnectionID: "V1", Role: sfu.RecvOnly}
	for _, c := range []sfu.ConnectionInfo{pub, viewer} {
		h.HandleEvent(signaling.Event{Type: "connection.created", Time: time.Now(), Connection: c})
	}
	waitUntil(t, "archive.failed", func() bool { return slices.Contains(rcv.got(), "archive.failed") })
	destroyed := *core.live
	destroyed.DestroyedAt = time.Now()
	core.end()
	h.SessionDestroyed(destroyed)
	waitUntil(t, "recording.report", func() bool { return slices.Contains(rcv.got(), "recording.report") })
	h.Close()
	notifier.Close()
	if err := client.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := rcv.got()
	want := []string{"session.created", "recording.started", "connection.created", "connection.created",
		"archive.failed", "session.destroyed", "recording.report"}
	if !slices.Equal(sortedWithin(got), sortedWithin(want)) || got[len(got)-1] != "recording.report" ||
		slices.Index(got, "recording.started") > slices.Index(got, "archive.failed") {
		t.Errorf("webhooks %v, want %v with recording.report last", got, want)
	}
}

// sortedWithin returns a sorted copy, to compare webhook sets whose
// session and event kinds are delivered by separate queues.
func sortedWithin(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
