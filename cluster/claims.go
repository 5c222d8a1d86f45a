package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// claim is a channel this node holds: the revision of its key and when
// it was made (a claim not yet joined is kept for one TTL).
type claim struct {
	rev   uint64
	since time.Time
}

// holder is a claim's value: who serves the channel.
type holder struct {
	NodeName             string `json:"node_name"`
	ExternalSignalingURL string `json:"external_signaling_url"`
}

func (c *Cluster) ownValue() []byte {
	data, _ := json.Marshal(holder{NodeName: c.cfg.NodeName, ExternalSignalingURL: c.cfg.ExternalSignalingURL})
	return data
}

// holderOf reads the channel's claim; ok false when nobody holds it.
func (c *Cluster) holderOf(ctx context.Context, kv *buckets, channelID string) (h holder, rev uint64, ok bool, err error) {
	ctx, cancel := c.opContext(ctx)
	defer cancel()
	c.ops.kv.Add(1)
	e, err := kv.channels.Get(ctx, encodeKey(channelID))
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		return holder{}, 0, false, nil
	case err != nil:
		return holder{}, 0, false, fmt.Errorf("cluster: read claim: %w", errors.Join(ErrUnavailable, err))
	}
	if err := json.Unmarshal(e.Value(), &h); err != nil {
		return holder{}, 0, false, fmt.Errorf("cluster: claim of %q: %w", channelID, err)
	}
	return h, e.Revision(), true, nil
}

// create claims a free channel; taken true when another node was first.
func (c *Cluster) create(ctx context.Context, kv *buckets, channelID string) (taken bool, err error) {
	ctx, cancel := c.opContext(ctx)
	defer cancel()
	c.ops.kv.Add(1)
	rev, err := kv.channels.Create(ctx, encodeKey(channelID), c.ownValue())
	switch {
	case errors.Is(err, jetstream.ErrKeyExists):
		return true, nil
	case err != nil:
		return false, fmt.Errorf("cluster: claim: %w", errors.Join(ErrUnavailable, err))
	}
	c.mu.Lock()
	c.claims[channelID] = &claim{rev: rev, since: c.now()}
	c.mu.Unlock()
	return false, nil
}

// holds reports whether this node holds the channel, by its own record.
func (c *Cluster) holds(channelID string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.claims[channelID]
	return ok
}

// refreshClaims renews the claims of live channels, releases those
// whose session is gone, and claims live channels that have no claim
// (those joined while NATS was away).
func (c *Cluster) refreshClaims(kv *buckets) {
	live := map[string]bool{}
	for _, ch := range c.local.Channels() {
		live[ch] = true
	}
	c.mu.Lock()
	if c.leaving {
		c.mu.Unlock()
		return
	}
	held := make(map[string]claim, len(c.claims))
	for ch, cl := range c.claims {
		held[ch] = *cl
	}
	c.mu.Unlock()
	var (
		wg  sync.WaitGroup
		sem = make(chan struct{}, refreshParallel)
	)
	each := func(f func()) {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			f()
		}()
	}
	for ch, cl := range held {
		if c.ctx.Err() != nil {
			break
		}
		if !live[ch] && time.Since(cl.since) > c.cfg.ClaimTTL {
			each(func() { c.release(c.ctx, kv, ch, cl.rev) })
			continue
		}
		each(func() { c.renew(kv, ch, cl.rev) })
	}
	for ch := range live {
		if _, ok := held[ch]; !ok && c.ctx.Err() == nil {
			each(func() { c.reclaim(kv, ch) })
		}
	}
	wg.Wait()
}

// refreshParallel bounds the claim renewals in flight at once: a node
// holding many channels renews them within a refresh interval without
// flooding NATS.
const refreshParallel = 16

// renew updates the claim's key, resetting its TTL. A claim changed
// behind this node's back (expired while NATS was away, or taken) is
// made again when free, and given up when another node holds it.
func (c *Cluster) renew(kv *buckets, channelID string, rev uint64) {
	ctx, cancel := c.opContext(c.ctx)
	defer cancel()
	c.ops.kv.Add(1)
	next, err := kv.channels.Update(ctx, encodeKey(channelID), c.ownValue(), rev)
	if err == nil {
		c.mu.Lock()
		if cl := c.claims[channelID]; cl != nil {
			cl.rev = next
		}
		c.mu.Unlock()
		return
	}
	if !errors.Is(err, jetstream.ErrKeyRevisionMismatch) && !errors.Is(err, jetstream.ErrKeyNotFound) {
		c.log.Warn("cluster: renew claim", "channel_id", channelID, "err", err)
		return
	}
	c.forget(channelID)
	c.reclaim(kv, channelID)
}

// reclaim claims a channel live on this node that it has no claim for.
func (c *Cluster) reclaim(kv *buckets, channelID string) {
	h, rev, ok, err := c.holderOf(c.ctx, kv, channelID)
	switch {
	case err != nil:
		c.log.Warn("cluster: reclaim", "channel_id", channelID, "err", err)
	case ok && h.NodeName == c.cfg.NodeName:
		c.adopt(channelID, rev)
	case ok:
		c.log.Warn("cluster: a channel live here is held by another node; new connections go there",
			"channel_id", channelID, "holder", h.NodeName)
	default:
		if _, err := c.create(c.ctx, kv, channelID); err != nil {
			c.log.Warn("cluster: reclaim", "channel_id", channelID, "err", err)
		}
	}
}

func (c *Cluster) forget(channelID string) {
	c.mu.Lock()
	delete(c.claims, channelID)
	c.mu.Unlock()
}

// release deletes the claim if it is still this node's revision.
func (c *Cluster) release(ctx context.Context, kv *buckets, channelID string, rev uint64) {
	c.forget(channelID)
	ctx, cancel := c.opContext(ctx)
	defer cancel()
	c.ops.kv.Add(1)
	err := kv.channels.Delete(ctx, encodeKey(channelID), jetstream.LastRevision(rev))
	if err != nil && !errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		c.log.Warn("cluster: release claim", "channel_id", channelID, "err", err)
	}
}

// releaseAll releases every claim (Close, after the sessions ended).
func (c *Cluster) releaseAll(ctx context.Context) error {
	kv, err := c.readyBuckets()
	if err != nil {
		return nil // the claims expire by themselves
	}
	c.mu.Lock()
	held := make(map[string]uint64, len(c.claims))
	for ch, cl := range c.claims {
		held[ch] = cl.rev
	}
	c.mu.Unlock()
	for ch, rev := range held {
		c.release(ctx, kv, ch, rev)
	}
	return nil
}
