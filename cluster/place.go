package cluster

import (
	"context"
	"errors"
)

// ErrHeldElsewhere refuses a redirected connect whose channel is held by
// another node: a redirected client is never bounced again.
var ErrHeldElsewhere = errors.New("cluster: channel held by another node")

// PlaceRequest is one connect's question to the cluster.
type PlaceRequest struct {
	ChannelID string
	// Redirected is set on a connect re-sent after a redirect
	// ("redirect": true); it is never redirected again.
	Redirected bool
	// NoNewChannel is set when this node's mode forbids a new channel
	// here (block_new_session without a local session, or
	// block_new_connection).
	NoNewChannel bool
}

// Place decides where a connect is served. It returns "" to serve it on
// this node (which then holds the channel, unless NoNewChannel left it
// unclaimed for the caller to refuse), or the signaling URL to redirect
// the client to: the holder's, or, for a new channel this node may not
// take, the least-loaded node in normal mode. Errors are ErrUnavailable
// (NATS unreachable: nothing new is claimed) and ErrHeldElsewhere.
func (c *Cluster) Place(ctx context.Context, req PlaceRequest) (string, error) {
	if c.holds(req.ChannelID) {
		return "", nil
	}
	kv, err := c.readyBuckets()
	if err != nil {
		return "", err
	}
	for range 3 {
		h, rev, ok, err := c.holderOf(ctx, kv, req.ChannelID)
		switch {
		case err != nil:
			return "", err
		case ok && h.NodeName == c.cfg.NodeName:
			c.adopt(req.ChannelID, rev)
			return "", nil
		case ok && req.Redirected:
			return "", ErrHeldElsewhere
		case ok:
			return h.ExternalSignalingURL, nil
		}
		if req.NoNewChannel {
			return c.elsewhere(ctx, req)
		}
		taken, err := c.create(ctx, kv, req.ChannelID)
		if err != nil || !taken {
			return "", err
		}
		// Another node was first: ask again who.
	}
	return "", ErrUnavailable
}

// adopt records a claim of this node's found in the bucket (made before
// a restart under the same node name).
func (c *Cluster) adopt(channelID string, rev uint64) {
	c.mu.Lock()
	if _, held := c.claims[channelID]; !held {
		c.claims[channelID] = &claim{rev: rev, since: c.now()}
	}
	c.mu.Unlock()
}

// elsewhere sends a new channel this node may not take to the least
// loaded node in normal mode; "" (serve here, so the caller refuses by
// its mode) when there is none or the client was already redirected.
func (c *Cluster) elsewhere(ctx context.Context, req PlaceRequest) (string, error) {
	if req.Redirected {
		return "", nil
	}
	return c.leastLoaded(ctx)
}

// Holder names the node that holds the channel, "" when none does.
func (c *Cluster) Holder(ctx context.Context, channelID string) (string, error) {
	kv, err := c.readyBuckets()
	if err != nil {
		return "", err
	}
	h, _, ok, err := c.holderOf(ctx, kv, channelID)
	if err != nil || !ok {
		return "", err
	}
	return h.NodeName, nil
}
