package node

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kiroku-sfu/kiroku/archive"
	"github.com/kiroku-sfu/kiroku/sfu"
	"github.com/kiroku-sfu/kiroku/signaling"
	"github.com/kiroku-sfu/kiroku/webhooks"
)

// slowSession answers session.created after delay with reply and notes
// when each session webhook arrived.
type slowSession struct {
	delay time.Duration
	reply string
	mu    sync.Mutex
	at    map[string]time.Time
}

func (s *slowSession) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var m struct {
		Type string `json:"type"`
	}
	_ = json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&m)
	s.mu.Lock()
	s.at[m.Type] = time.Now()
	s.mu.Unlock()
	if m.Type == "session.created" {
		select {
		case <-time.After(s.delay):
		case <-r.Context().Done():
		}
		_, _ = io.WriteString(w, s.reply)
		return
	}
	_, _ = io.WriteString(w, `{}`)
}

func (s *slowSession) arrived(typ string) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	at, ok := s.at[typ]
	return at, ok
}

// TestSessionCreatedGate checks that a new session's connections wait
// for session.created's reply: session_metadata is stored and the
// recording started, with recording.started delivered, before they go
// on; a reply slower than the wait is not applied and they go on after
// the wait.
func TestSessionCreatedGate(t *testing.T) {
	const wait = 600 * time.Millisecond
	reply := `{"session_metadata":{"room":"a"},"recording":true,"recording_format":"mp4"}`
	for _, tc := range []struct {
		name    string
		delay   time.Duration
		applied bool
		minWait time.Duration
		maxWait time.Duration
	}{
		{name: "reply in time", delay: 200 * time.Millisecond, applied: true, minWait: 200 * time.Millisecond, maxWait: wait},
		{name: "reply too late", delay: 3 * time.Second, applied: false, minWait: wait, maxWait: wait + 400*time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rcv := &slowSession{delay: tc.delay, reply: reply, at: map[string]time.Time{}}
			srv := httptest.NewServer(rcv)
			defer srv.Close()
			wc := webhooks.DefaultConfig()
			wc.SessionURL, wc.Timeout = srv.URL+"/session", wait
			client, err := webhooks.New(wc, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			ledger := &hookLedger{client: client}
			notifier := newOrderedNotifier(archive.WebhookNotifier{Client: client}, ledger, 5*time.Second)
			m := newManager(t, notifier)
			core := &fakeCore{live: &sfu.SessionInfo{ChannelID: "ch", SessionID: "S1", CreatedAt: time.Now()}}
			var logs lockedBuffer
			h := newRecordingHooks(signaling.NewWebhooks(client, signaling.WebhookOptions{}), ledger,
				signaling.WebhookOptions{}, slog.New(slog.NewTextHandler(&logs, nil)))
			h.core, h.rec, h.settle = core, m, notifier.settleSession
			h.gates, h.wait = signaling.NewSessionGates(wait), wait

			start := time.Now()
			h.SessionCreated(*core.live)
			h.gates.AwaitSession(context.Background(), "ch", "S1")
			released := time.Now()
			if took := released.Sub(start); took < tc.minWait || took > tc.maxWait {
				t.Errorf("held %v, want %v to %v", took, tc.minWait, tc.maxWait)
			}
			_, recording := m.Recording("ch")
			cur, _ := core.Session("ch")
			startedAt, started := rcv.arrived("recording.started")
			if tc.applied {
				if !recording || string(cur.Metadata) != `{"room":"a"}` || !started || startedAt.After(released) {
					t.Errorf("released before the reply was applied: recording %t, metadata %s, recording.started %t at %v (released %v)",
						recording, cur.Metadata, started, startedAt, released)
				}
			} else if recording || cur.Metadata != nil {
				t.Errorf("a late reply was applied: recording %t, metadata %s", recording, cur.Metadata)
			}
			if !tc.applied {
				waitUntil(t, "the warning", func() bool {
					return strings.Contains(logs.String(), "session.created got no reply in time")
				})
			}
			h.Close()
			if tc.applied && strings.Contains(logs.String(), "level=WARN") {
				t.Errorf("warning logged for a reply in time: %s", logs.String())
			}
			if _, ok := m.Recording("ch"); ok != tc.applied {
				t.Errorf("recording after the call ended: %t, want %t", ok, tc.applied)
			}
			notifier.Close()
			if err := client.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// lockedBuffer is a log destination safe for concurrent writers.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
