package node

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kiroku-sfu/kiroku/archive"
	"github.com/kiroku-sfu/kiroku/webhooks"
)

// slowLog is a webhook endpoint that answers some types late and records
// the order in which webhooks finished arriving.
type slowLog struct {
	delay map[string]time.Duration
	mu    sync.Mutex
	types []string
}

func (l *slowLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var m struct {
		Type string `json:"type"`
	}
	_ = json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&m)
	time.Sleep(l.delay[m.Type])
	l.mu.Lock()
	l.types = append(l.types, m.Type)
	l.mu.Unlock()
	_, _ = io.WriteString(w, `{}`)
}

func (l *slowLog) got() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.types)
}

// TestOrderedNotifier sends archive's webhooks through endpoints where
// recording.started and archive.available are slow: each webhook waits
// for the other kind's earlier ones, unless the wait runs out.
func TestOrderedNotifier(t *testing.T) {
	inOrder := []string{"recording.started", "archive.started", "archive.available", "recording.report"}
	for _, tc := range []struct {
		name string
		wait time.Duration
		want []string
	}{
		{"ordered", 5 * time.Second, inOrder},
		{"wait ran out", 10 * time.Millisecond, []string{"archive.started", "recording.started", "recording.report", "archive.available"}},
	} {
		rcv := &slowLog{delay: map[string]time.Duration{"recording.started": 300 * time.Millisecond,
			"archive.available": 300 * time.Millisecond}}
		srv := httptest.NewServer(rcv)
		wc := webhooks.DefaultConfig()
		wc.SessionURL, wc.EventURL, wc.Timeout = srv.URL+"/session", srv.URL+"/event", 2*time.Second
		client, err := webhooks.New(wc, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		n := newOrderedNotifier(archive.WebhookNotifier{Client: client}, &hookLedger{client: client}, tc.wait)
		n.Session("recording.started", "ch", "S", nil)
		n.Event("archive.started", archive.Connection{}, "ch", "S", nil)
		n.Event("archive.available", archive.Connection{}, "ch", "S", nil)
		n.Session("recording.report", "ch", "S", nil)
		n.Close()
		if err := client.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		srv.Close()
		if got := rcv.got(); !slices.Equal(got, tc.want) {
			t.Errorf("%s: arrived %v, want %v", tc.name, got, tc.want)
		}
	}
}
