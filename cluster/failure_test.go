package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/kiroku-sfu/kiroku/cluster"
	"github.com/kiroku-sfu/kiroku/cluster/natstest"
)

// TestNATSClusterFailures runs three NATS servers with the buckets
// replicated three times: one server killed changes nothing; all stopped
// refuses new channels at once while a held channel is still served;
// all back, new channels work again and the held claim is made again,
// with no restart of the members.
func TestNATSClusterFailures(t *testing.T) {
	// Longer than a JetStream leader election (nats-server's Raft waits
	// 4 to 9 s before it runs one), during which renewals fail: a shorter
	// TTL lets x's claim expire while its stream elects a leader.
	const ttl = 12 * time.Second
	servers := natstest.StartCluster(t, 3)
	cfg := func(name string) cluster.Config {
		c := cluster.DefaultConfig()
		c.Enabled, c.NATSURLs, c.NodeName, c.Replicas = true, []string{natstest.URLs(servers)}, name, 3
		c.ExternalSignalingURL = "ws://" + name + ".test/signaling"
		c.ClaimTTL, c.RequestTimeout = ttl, time.Second
		return c
	}
	a, b := joinConfig(t, cfg("a"), nil), joinConfig(t, cfg("b"), nil)
	if loc, err := place(t, a, cluster.PlaceRequest{ChannelID: "x"}); err != nil || loc != "" {
		t.Fatalf("a places x: %q %v", loc, err)
	}
	a.local.set(cluster.ModeNormal, "x")

	servers[0].Stop()
	for i, m := range []*member{a, b} {
		ch := fmt.Sprintf("one-down-%d", i)
		eventually(t, 15*time.Second, "placement with one NATS server down", func() error {
			loc, err := place(t, m, cluster.PlaceRequest{ChannelID: ch})
			if err == nil && loc != "" {
				return errors.New("redirected to " + loc)
			}
			return err
		})
	}
	if loc, err := place(t, b, cluster.PlaceRequest{ChannelID: "x"}); err != nil || loc != a.url {
		t.Fatalf("b places x with one server down: %q %v", loc, err)
	}
	// The registry lists without JetStream's meta leader, which the
	// killed server may have been.
	eventually(t, 15*time.Second, "the registry with one NATS server down", func() error {
		nodes, err := b.Nodes(context.Background())
		if err == nil && len(nodes) != 2 {
			return fmt.Errorf("%d nodes listed, want 2", len(nodes))
		}
		return err
	})

	for _, s := range servers {
		s.Stop()
	}
	eventually(t, 10*time.Second, "refusal with NATS gone", func() error {
		start := time.Now()
		_, err := place(t, b, cluster.PlaceRequest{ChannelID: "new"})
		if !errors.Is(err, cluster.ErrUnavailable) {
			return fmt.Errorf("new channel: %v", err)
		}
		if d := time.Since(start); d > 1500*time.Millisecond {
			return fmt.Errorf("refusal took %v", d)
		}
		return nil
	})
	if loc, err := place(t, a, cluster.PlaceRequest{ChannelID: "x"}); err != nil || loc != "" {
		t.Fatalf("a still serves its x without NATS: %q %v", loc, err)
	}
	time.Sleep(ttl + time.Second) // past the TTL: x's claim is gone from the servers' view

	for _, s := range servers {
		s.RestartNoWait()
	}
	for _, s := range servers {
		s.WaitHealthy()
	}
	eventually(t, 30*time.Second, "placement after NATS is back", func() error {
		loc, err := place(t, b, cluster.PlaceRequest{ChannelID: "after"})
		if err == nil && loc != "" {
			return errors.New("redirected to " + loc)
		}
		return err
	})
	eventually(t, 10*time.Second, "x claimed again by a", func() error {
		holder, err := b.Holder(context.Background(), "x")
		if err == nil && holder != "a" {
			return fmt.Errorf("x held by %q", holder)
		}
		return err
	})
	eventually(t, 5*time.Second, "registry after recovery", func() error {
		nodes, err := b.Nodes(context.Background())
		if err == nil && len(nodes) != 2 {
			return fmt.Errorf("%d nodes listed", len(nodes))
		}
		return err
	})
}
