package cluster

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// Bucket names in JetStream.
const (
	ChannelsBucket = "kiroku_channels"
	NodesBucket    = "kiroku_nodes"
)

// buckets are the two key-value stores.
type buckets struct {
	channels jetstream.KeyValue
	nodes    jetstream.KeyValue
}

// buckets returns the key-value stores, creating (or updating) them on
// first use. Both keep one value a key and drop it ClaimTTL after its
// last write.
func (c *Cluster) buckets() (*buckets, error) {
	c.mu.Lock()
	kv := c.kv
	c.mu.Unlock()
	if kv != nil {
		return kv, nil
	}
	kv = &buckets{}
	var err error
	if kv.channels, err = c.bucket(ChannelsBucket, "kiroku channel claims: channel -> node"); err != nil {
		return nil, err
	}
	if kv.nodes, err = c.bucket(NodesBucket, "kiroku node registry"); err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.kv = kv
	c.mu.Unlock()
	return kv, nil
}

func (c *Cluster) bucket(name, what string) (jetstream.KeyValue, error) {
	// Creating a replicated stream takes longer than a key operation.
	ctx, cancel := context.WithTimeout(c.ctx, c.cfg.ClaimTTL)
	defer cancel()
	c.ops.kv.Add(1)
	kv, err := c.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: name, Description: what, History: 1, TTL: c.cfg.ClaimTTL,
		Storage: jetstream.FileStorage, Replicas: c.cfg.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("cluster: bucket %s: %w", name, err)
	}
	return kv, nil
}

// readyBuckets returns the buckets when NATS is connected and they
// exist, else ErrUnavailable.
func (c *Cluster) readyBuckets() (*buckets, error) {
	c.mu.Lock()
	kv := c.kv
	c.mu.Unlock()
	if kv == nil || !c.nc.IsConnected() {
		return nil, ErrUnavailable
	}
	return kv, nil
}
