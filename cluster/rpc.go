package cluster

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"

	"github.com/nats-io/nats.go"
)

// Headers of a forwarded API call and of its reply.
const (
	headerTarget = "Kiroku-Target"
	headerStatus = "Kiroku-Status"
)

// ErrNoAnswer means another node did not answer a forwarded call in time.
var ErrNoAnswer = errors.New("cluster: node did not answer")

// Reply is one node's answer to an API call.
type Reply struct {
	NodeName string
	Status   int
	Body     []byte
}

// serveAPI answers a call forwarded by another node with this node's
// own API, in a goroutine of its own (at most cap(apiSem) at once).
func (c *Cluster) serveAPI(m *nats.Msg) {
	c.mu.Lock()
	if c.closed || c.api == nil {
		c.mu.Unlock()
		respond(m, http.StatusServiceUnavailable, []byte(`{"error_type":"unavailable","error_reason":"node is stopping"}`))
		return
	}
	c.wg.Add(1)
	c.mu.Unlock()
	go func() {
		defer c.wg.Done()
		select {
		case c.apiSem <- struct{}{}:
			defer func() { <-c.apiSem }()
		case <-c.ctx.Done():
			return
		}
		ctx, cancel := c.opContext(c.ctx)
		defer cancel()
		status, body := c.api(ctx, m.Header.Get(headerTarget), m.Data)
		respond(m, status, body)
	}()
}

func respond(m *nats.Msg, status int, body []byte) {
	r := nats.NewMsg(m.Reply)
	r.Header.Set(headerStatus, strconv.Itoa(status))
	r.Data = body
	_ = m.RespondMsg(r) // the caller times out if this is lost
}

// Forward carries a channel-scoped API call to the node that holds the
// channel and returns its answer. forwarded is false when this node
// holds the channel or nobody does: the caller answers it itself.
func (c *Cluster) Forward(ctx context.Context, channelID, target string, body []byte) (r Reply, forwarded bool, err error) {
	if c.holds(channelID) {
		return Reply{}, false, nil
	}
	kv, err := c.readyBuckets()
	if err != nil {
		return Reply{}, false, err
	}
	h, _, ok, err := c.holderOf(ctx, kv, channelID)
	if err != nil || !ok || h.NodeName == c.cfg.NodeName {
		return Reply{}, false, err
	}
	r, err = c.call(ctx, h.NodeName, target, body)
	return r, true, err
}

// call sends one API call to a node and waits for its reply.
func (c *Cluster) call(ctx context.Context, nodeName, target string, body []byte) (Reply, error) {
	ctx, cancel := c.opContext(ctx)
	defer cancel()
	m := nats.NewMsg(apiSubject(encodeKey(nodeName)))
	m.Header.Set(headerTarget, target)
	m.Data = body
	c.ops.requests.Add(1)
	resp, err := c.nc.RequestMsgWithContext(ctx, m)
	if err != nil {
		return Reply{NodeName: nodeName}, fmt.Errorf("%w: %s: %w", ErrNoAnswer, nodeName, err)
	}
	status, err := strconv.Atoi(resp.Header.Get(headerStatus))
	if err != nil {
		return Reply{NodeName: nodeName}, fmt.Errorf("cluster: reply of %s has no status: %w", nodeName, err)
	}
	return Reply{NodeName: nodeName, Status: status, Body: resp.Data}, nil
}

// Gather sends an API call to every other node in the registry at once
// and returns the replies; missing names the nodes that did not answer
// in time.
func (c *Cluster) Gather(ctx context.Context, target string, body []byte) (replies []Reply, missing []string, err error) {
	nodes, err := c.Nodes(ctx)
	if err != nil {
		return nil, nil, err
	}
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	for _, n := range nodes {
		if n.NodeName == c.cfg.NodeName {
			continue
		}
		wg.Add(1)
		go func(name string) {
			defer wg.Done()
			r, err := c.call(ctx, name, target, body)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				missing = append(missing, name)
				return
			}
			replies = append(replies, r)
		}(n.NodeName)
	}
	wg.Wait()
	return replies, missing, nil
}
