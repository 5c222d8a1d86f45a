package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Node is one registry entry, as ListClusterNodes returns it.
type Node struct {
	NodeName             string    `json:"node_name"`
	ExternalSignalingURL string    `json:"external_signaling_url"`
	Mode                 string    `json:"mode"`
	Connections          int       `json:"connections"`
	Channels             int       `json:"channels"`
	Version              string    `json:"version"`
	UpdatedAt            time.Time `json:"updated_at"`
}

// ModeNormal is the mode of a node that takes new channels.
const ModeNormal = "normal"

// heartbeat puts this node's entry into the registry.
func (c *Cluster) heartbeat(kv *buckets) error {
	c.mu.Lock()
	leaving, held := c.leaving, len(c.claims)
	c.mu.Unlock()
	if leaving {
		return nil
	}
	st := c.local.Status()
	n := Node{NodeName: c.cfg.NodeName, ExternalSignalingURL: c.cfg.ExternalSignalingURL, Mode: st.Mode,
		Connections: st.Connections, Channels: held, Version: c.cfg.Version, UpdatedAt: time.Now().UTC()}
	data, err := json.Marshal(n)
	if err != nil {
		return fmt.Errorf("cluster: encode node: %w", err)
	}
	ctx, cancel := c.opContext(c.ctx)
	defer cancel()
	c.ops.kv.Add(1)
	if _, err := kv.nodes.Put(ctx, c.nodeKey, data); err != nil {
		return fmt.Errorf("cluster: heartbeat: %w", err)
	}
	return nil
}

// Leave removes this node from the registry and stops its heartbeats,
// so that no node redirects a new channel here; its claims stay until
// Close. SIGTERM calls it first.
func (c *Cluster) Leave(ctx context.Context) error {
	c.mu.Lock()
	c.leaving = true
	c.mu.Unlock()
	return c.deregister(ctx)
}

func (c *Cluster) deregister(ctx context.Context) error {
	kv, err := c.readyBuckets()
	if err != nil {
		return nil // the entry expires by itself
	}
	ctx, cancel := c.opContext(ctx)
	defer cancel()
	c.ops.kv.Add(1)
	if err := kv.nodes.Delete(ctx, c.nodeKey); err != nil {
		return fmt.Errorf("cluster: deregister: %w", err)
	}
	return nil
}

// Nodes lists the registry: every node whose heartbeat is younger than
// the TTL, by name.
func (c *Cluster) Nodes(ctx context.Context) ([]Node, error) {
	kv, err := c.readyBuckets()
	if err != nil {
		return nil, err
	}
	ctx, cancel := c.opContext(ctx)
	defer cancel()
	keys, err := c.nodeKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("cluster: list nodes: %w", errors.Join(ErrUnavailable, err))
	}
	nodes := make([]Node, 0, len(keys))
	for _, k := range keys {
		c.ops.kv.Add(1)
		e, err := kv.nodes.Get(ctx, k)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("cluster: read node: %w", errors.Join(ErrUnavailable, err))
		}
		var n Node
		if json.Unmarshal(e.Value(), &n) == nil {
			nodes = append(nodes, n)
		}
	}
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].NodeName < nodes[j].NodeName })
	return nodes, nil
}

// nodeKeys lists the registry's keys from its stream's subjects. The
// stream's leader answers that, and any replica a Get, while listing
// keys with kv.ListKeys creates a consumer, which needs JetStream's meta
// leader: after a NATS server dies, electing a new one can take longer
// than electing the stream's.
func (c *Cluster) nodeKeys(ctx context.Context) ([]string, error) {
	c.ops.kv.Add(1)
	stream, err := c.js.Stream(ctx, "KV_"+NodesBucket)
	if err != nil {
		return nil, err
	}
	prefix := "$KV." + NodesBucket + "."
	info, err := stream.Info(ctx, jetstream.WithSubjectFilter(prefix+">"))
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(info.State.Subjects))
	for subject := range info.State.Subjects {
		keys = append(keys, strings.TrimPrefix(subject, prefix))
	}
	return keys, nil
}

// leastLoaded returns the signaling URL of the node in normal mode,
// other than this one, with the fewest connections; "" when there is
// none.
func (c *Cluster) leastLoaded(ctx context.Context) (string, error) {
	nodes, err := c.Nodes(ctx)
	if err != nil {
		return "", err
	}
	best := -1
	for i, n := range nodes {
		if n.NodeName == c.cfg.NodeName || n.Mode != ModeNormal {
			continue
		}
		if best < 0 || n.Connections < nodes[best].Connections {
			best = i
		}
	}
	if best < 0 {
		return "", nil
	}
	return nodes[best].ExternalSignalingURL, nil
}
