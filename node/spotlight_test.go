package node

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kiroku-sfu/kiroku/archive"
	"github.com/kiroku-sfu/kiroku/sfu"
	"github.com/kiroku-sfu/kiroku/signaling"
	"github.com/kiroku-sfu/kiroku/webhooks"
)

// spotlightCore is fakeCore that also takes spotlight numbers.
type spotlightCore struct {
	*fakeCore
	mu      sync.Mutex
	numbers []int
}

func (c *spotlightCore) ChangeSpotlightNumber(_ string, n int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.numbers = append(c.numbers, n)
	return nil
}

func (c *spotlightCore) got() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.numbers)
}

// TestSessionCreatedSpotlightNumber: the session.created reply's
// spotlight_number becomes the channel's.
func TestSessionCreatedSpotlightNumber(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"spotlight_number":3}`)
	}))
	defer srv.Close()
	wc := webhooks.DefaultConfig()
	wc.SessionURL, wc.Timeout = srv.URL+"/session", 2*time.Second
	client, err := webhooks.New(wc, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ledger := &hookLedger{client: client}
	notifier := newOrderedNotifier(archive.WebhookNotifier{Client: client}, ledger, 5*time.Second)
	m := newManager(t, notifier)
	core := &spotlightCore{fakeCore: &fakeCore{live: &sfu.SessionInfo{ChannelID: "ch", SessionID: "S1", CreatedAt: time.Now(), Spotlight: true}}}
	h := newRecordingHooks(signaling.NewWebhooks(client, signaling.WebhookOptions{}), ledger, signaling.WebhookOptions{},
		slog.New(slog.DiscardHandler))
	h.core, h.rec = core, m
	h.SessionCreated(*core.live)
	waitUntil(t, "the spotlight number set", func() bool { return slices.Equal(core.got(), []int{3}) })
	h.Close()
	notifier.Close()
	if err := client.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}
