package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"

	"github.com/kiroku-sfu/kiroku/api"
	"github.com/kiroku-sfu/kiroku/cluster"
	"github.com/kiroku-sfu/kiroku/sfu"
	"github.com/kiroku-sfu/kiroku/signaling"
)

// clusterPart is the node's membership of a cluster and the adapters
// through which signaling and the API use it.
type clusterPart struct {
	c   *cluster.Cluster
	api atomic.Pointer[api.Server] // set once the API exists; forwarded calls wait for it
}

// joinCluster connects to NATS when cluster = true and sets the
// signaling Placement and the API Forwarder in st; nil when the cluster
// is off.
func joinCluster(st *Settings, core *sfu.SFU, logger *slog.Logger) (*clusterPart, error) {
	if !st.cluster.Enabled {
		return nil, nil
	}
	p := &clusterPart{}
	c, err := cluster.New(st.cluster, cluster.Deps{Logger: logger.With("component", "cluster"),
		Local: localView{core: core}, API: p.serveForwarded})
	if err != nil {
		return nil, err
	}
	p.c = c
	// A node that serves before the buckets exist would refuse its first
	// channels; NATS that does not answer in a TTL is logged, not fatal.
	ctx, cancel := context.WithTimeout(context.Background(), st.cluster.ClaimTTL)
	defer cancel()
	if err := c.WaitReady(ctx); err != nil {
		logger.Warn("cluster: NATS not ready; serving, new channels are refused until it is", "err", err)
	}
	st.signaling.Placement = placement{c: c}
	st.api.Forwarder = forwarder{c: c}
	return p, nil
}

// serveForwarded answers another node's API call with this node's API.
func (p *clusterPart) serveForwarded(ctx context.Context, target string, body []byte) (int, []byte) {
	s := p.api.Load()
	if s == nil {
		return http.StatusServiceUnavailable, []byte(`{"error_type":"unavailable","error_reason":"node is starting"}`)
	}
	return s.ServeForwarded(ctx, target, body)
}

// leave takes the node out of the registry (shutdown, before sessions
// are closed); nil-safe.
func (p *clusterPart) leave(ctx context.Context) error {
	if p == nil {
		return nil
	}
	return p.c.Leave(ctx)
}

// close releases the claims and leaves NATS (after the sessions ended);
// nil-safe.
func (p *clusterPart) close(ctx context.Context) error {
	if p == nil {
		return nil
	}
	return p.c.Close(ctx)
}

// localView tells the cluster which channels live here and the node's
// mode and load.
type localView struct{ core *sfu.SFU }

func (l localView) Channels() []string {
	sessions := l.core.Sessions()
	out := make([]string, len(sessions))
	for i, s := range sessions {
		out[i] = s.ChannelID
	}
	return out
}

func (l localView) Status() cluster.Status {
	return cluster.Status{Mode: string(l.core.Mode()), Connections: len(l.core.Connections())}
}

// placement adapts the cluster to signaling.Placement.
type placement struct{ c *cluster.Cluster }

func (p placement) Place(ctx context.Context, req signaling.PlaceRequest) (string, error) {
	loc, err := p.c.Place(ctx, cluster.PlaceRequest{ChannelID: req.ChannelID, Redirected: req.Redirected,
		NoNewChannel: req.NoNewChannel})
	if errors.Is(err, cluster.ErrHeldElsewhere) {
		return "", fmt.Errorf("%w: %w", signaling.ErrChannelElsewhere, err)
	}
	return loc, err
}

// forwarder adapts the cluster to api.Forwarder.
type forwarder struct{ c *cluster.Cluster }

func (f forwarder) Forward(ctx context.Context, channelID, target string, body []byte) (int, []byte, bool, error) {
	r, forwarded, err := f.c.Forward(ctx, channelID, target, body)
	return r.Status, r.Body, forwarded, err
}

func (f forwarder) Gather(ctx context.Context, target string, body []byte) ([][]byte, []string, error) {
	replies, missing, err := f.c.Gather(ctx, target, body)
	out := make([][]byte, 0, len(replies))
	for _, r := range replies {
		if r.Status == http.StatusOK {
			out = append(out, r.Body)
		} else {
			missing = append(missing, r.NodeName)
		}
	}
	return out, missing, err
}

func (f forwarder) Nodes(ctx context.Context) ([]api.ClusterNode, error) {
	nodes, err := f.c.Nodes(ctx)
	out := make([]api.ClusterNode, len(nodes))
	for i, n := range nodes {
		out[i] = api.ClusterNode(n)
	}
	return out, err
}
