package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/kiroku-sfu/kiroku/cluster"
	"github.com/kiroku-sfu/kiroku/cluster/natstest"
)

// fakeLocal is a node's view of itself that the test sets.
type fakeLocal struct {
	mu       sync.Mutex
	channels []string
	status   cluster.Status
}

func (f *fakeLocal) Channels() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.channels...)
}

func (f *fakeLocal) Status() cluster.Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.status
}

func (f *fakeLocal) set(mode string, channels ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status.Mode, f.channels = mode, channels
}

type member struct {
	*cluster.Cluster
	local *fakeLocal
	url   string
}

// join starts a member named name on the given NATS URLs with a 3 s TTL.
func join(t *testing.T, urls, name string, api cluster.APIHandler) *member {
	t.Helper()
	cfg := cluster.DefaultConfig()
	cfg.Enabled, cfg.NATSURLs, cfg.NodeName = true, []string{urls}, name
	cfg.ExternalSignalingURL = "ws://" + name + ".test/signaling"
	cfg.ClaimTTL, cfg.RequestTimeout = 3*time.Second, time.Second
	return joinConfig(t, cfg, api)
}

func joinConfig(t *testing.T, cfg cluster.Config, api cluster.APIHandler) *member {
	t.Helper()
	local := &fakeLocal{status: cluster.Status{Mode: cluster.ModeNormal}}
	c, err := cluster.New(cfg, cluster.Deps{Local: local, API: api})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := c.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	return &member{Cluster: c, local: local, url: cfg.ExternalSignalingURL}
}

func place(t *testing.T, m *member, req cluster.PlaceRequest) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return m.Place(ctx, req)
}

// eventually retries f every 100 ms until it returns nil or limit passes.
func eventually(t *testing.T, limit time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still %v after %v", what, err, limit)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestPlaceClaimsRedirectsAndReleases(t *testing.T) {
	srv := natstest.Start(t)
	a, b := join(t, srv.URL, "a", nil), join(t, srv.URL, "b", nil)
	if loc, err := place(t, a, cluster.PlaceRequest{ChannelID: "x"}); err != nil || loc != "" {
		t.Fatalf("a places x: %q, %v; want served on a", loc, err)
	}
	a.local.set(cluster.ModeNormal, "x")
	if loc, err := place(t, b, cluster.PlaceRequest{ChannelID: "x"}); err != nil || loc != a.url {
		t.Fatalf("b places x: %q, %v; want redirect to %s", loc, err, a.url)
	}
	if _, err := place(t, b, cluster.PlaceRequest{ChannelID: "x", Redirected: true}); !errors.Is(err, cluster.ErrHeldElsewhere) {
		t.Fatalf("b places redirected x: %v; want ErrHeldElsewhere", err)
	}
	if loc, err := place(t, a, cluster.PlaceRequest{ChannelID: "x"}); err != nil || loc != "" {
		t.Fatalf("a places x again: %q, %v", loc, err)
	}
	// The session on a ends: the claim goes within a TTL and a refresh.
	a.local.set(cluster.ModeNormal)
	eventually(t, 8*time.Second, "x released", func() error {
		loc, err := place(t, b, cluster.PlaceRequest{ChannelID: "x"})
		if err == nil && loc != "" {
			return errors.New("still redirected to " + loc)
		}
		return err
	})
}

func TestNodesAndBlockedModes(t *testing.T) {
	srv := natstest.Start(t)
	a, b, c := join(t, srv.URL, "a", nil), join(t, srv.URL, "b", nil), join(t, srv.URL, "c", nil)
	a.local.mu.Lock()
	a.local.status.Connections = 5
	a.local.mu.Unlock()
	b.local.set("block_new_session")
	// Let every heartbeat carry the settings above.
	eventually(t, 5*time.Second, "registry", func() error {
		nodes, err := b.Nodes(context.Background())
		if err != nil {
			return err
		}
		if len(nodes) != 3 || nodes[1].Mode != "block_new_session" || nodes[0].Connections != 5 {
			return errors.New("registry not settled")
		}
		return nil
	})
	loc, err := place(t, b, cluster.PlaceRequest{ChannelID: "y", NoNewChannel: true})
	if err != nil || loc != c.url {
		t.Fatalf("blocked b places new y: %q, %v; want the least loaded normal node %s", loc, err, c.url)
	}
	if loc, err := place(t, b, cluster.PlaceRequest{ChannelID: "y", NoNewChannel: true, Redirected: true}); err != nil || loc != "" {
		t.Fatalf("blocked b, redirected y: %q, %v; want no redirect (refused by mode)", loc, err)
	}
	if loc, err := place(t, c, cluster.PlaceRequest{ChannelID: "y", Redirected: true}); err != nil || loc != "" {
		t.Fatalf("c serves redirected y: %q, %v", loc, err)
	}
	// Close deregisters.
	if err := a.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	nodes, err := b.Nodes(context.Background())
	if err != nil || len(nodes) != 2 {
		t.Fatalf("after a left: %v, %v", nodes, err)
	}
}

func TestForwardAndGather(t *testing.T) {
	srv := natstest.Start(t)
	answer := func(name string) cluster.APIHandler {
		return func(_ context.Context, target string, body []byte) (int, []byte) {
			return http.StatusOK, []byte(`{"node":"` + name + `","target":"` + target + `","body":` + string(body) + `}`)
		}
	}
	a, b := join(t, srv.URL, "a", answer("a")), join(t, srv.URL, "b", answer("b"))
	join(t, srv.URL, "slow", func(ctx context.Context, _ string, _ []byte) (int, []byte) {
		<-ctx.Done()
		time.Sleep(1500 * time.Millisecond)
		return http.StatusOK, []byte(`[]`)
	})
	if _, err := place(t, a, cluster.PlaceRequest{ChannelID: "x"}); err != nil {
		t.Fatal(err)
	}
	r, forwarded, err := b.Forward(context.Background(), "x", "Sora_20231220.GetSession", []byte(`{"channel_id":"x"}`))
	if err != nil || !forwarded || r.Status != 200 || string(r.Body) != `{"node":"a","target":"Sora_20231220.GetSession","body":{"channel_id":"x"}}` {
		t.Fatalf("forward from b: %+v %v %v", r, forwarded, err)
	}
	if _, forwarded, err := a.Forward(context.Background(), "x", "t", nil); forwarded || err != nil {
		t.Fatalf("the holder forwards its own channel: %v %v", forwarded, err)
	}
	if _, forwarded, err := b.Forward(context.Background(), "free", "t", nil); forwarded || err != nil {
		t.Fatalf("an unclaimed channel is forwarded: %v %v", forwarded, err)
	}
	replies, missing, err := b.Gather(context.Background(), "Sora_20201013.ListConnections", []byte(`{}`))
	if err != nil || len(replies) != 1 || replies[0].NodeName != "a" || len(missing) != 1 || missing[0] != "slow" {
		t.Fatalf("gather from b: %+v missing %v, %v", replies, missing, err)
	}
	if kv, req := b.Ops(); kv == 0 || req != 3 {
		t.Fatalf("b's ops: %d kv, %d requests; want some and 3", kv, req)
	}
}

func TestDeadNodesClaimExpires(t *testing.T) {
	srv := natstest.Start(t)
	a, b := join(t, srv.URL, "a", nil), join(t, srv.URL, "b", nil)
	if _, err := place(t, a, cluster.PlaceRequest{ChannelID: "x"}); err != nil {
		t.Fatal(err)
	}
	a.local.set(cluster.ModeNormal, "x")
	a.Kill()
	start := time.Now()
	eventually(t, 6*time.Second, "x taken over", func() error {
		loc, err := place(t, b, cluster.PlaceRequest{ChannelID: "x"})
		if err == nil && loc != "" {
			return errors.New("still redirected to " + loc)
		}
		return err
	})
	t.Logf("taken over after %v (TTL 3 s)", time.Since(start))
	if nodes, err := b.Nodes(context.Background()); err != nil || len(nodes) != 1 {
		t.Fatalf("registry after a died: %v, %v", nodes, err)
	}
}

// TestManyClaimsOutliveTheTTL holds 300 live channels on one node for
// two TTLs: every claim is renewed in time (renewals run in parallel).
func TestManyClaimsOutliveTheTTL(t *testing.T) {
	srv := natstest.Start(t)
	a, b := join(t, srv.URL, "a", nil), join(t, srv.URL, "b", nil)
	var channels []string
	for i := range 300 {
		ch := fmt.Sprintf("ch-%d", i)
		if _, err := place(t, a, cluster.PlaceRequest{ChannelID: ch}); err != nil {
			t.Fatal(err)
		}
		channels = append(channels, ch)
	}
	a.local.set(cluster.ModeNormal, channels...)
	time.Sleep(6 * time.Second)
	for _, ch := range channels {
		if holder, err := b.Holder(context.Background(), ch); err != nil || holder != "a" {
			t.Fatalf("%s after two TTLs: held by %q, %v", ch, holder, err)
		}
	}
}
