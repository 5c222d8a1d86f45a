package cluster

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ErrUnavailable means NATS cannot be reached (or did not answer in
// time): nothing new may be claimed.
var ErrUnavailable = errors.New("cluster: NATS unavailable")

// Local is what the cluster needs to know about this node.
type Local interface {
	// Channels lists the channels with a live session on this node.
	Channels() []string
	// Status is this node's mode and connection count, for the registry.
	Status() Status
}

// Status is a node's load and admission mode.
type Status struct {
	Mode        string
	Connections int
}

// APIHandler answers an HTTP API call forwarded from another node, as
// this node's own API would: its status code and JSON body.
type APIHandler func(ctx context.Context, target string, body []byte) (status int, reply []byte)

// Deps are a Cluster's collaborators. Local is required; API may be nil
// (forwarded calls then fail with 503).
type Deps struct {
	Logger *slog.Logger
	Local  Local
	API    APIHandler
}

// Cluster is this node's membership: its NATS connection, claims,
// registry entry and API subscription. It runs until Close.
type Cluster struct {
	cfg     Config
	log     *slog.Logger
	local   Local
	api     APIHandler
	nodeKey string

	nc   *nats.Conn
	js   jetstream.JetStream
	sub  *nats.Subscription
	kick chan struct{} // refresh at once (after a reconnect)

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // the refresh loop and API calls in progress
	apiSem chan struct{}  // bounds API calls served at once

	mu      sync.Mutex
	kv      *buckets          // nil until the buckets exist
	claims  map[string]*claim // by channel_id: what this node holds
	leaving bool              // Leave was called: no heartbeats, no claims
	closed  bool

	ops counters
}

// counters count the NATS traffic the cluster causes.
type counters struct {
	kv       atomic.Int64 // key-value operations (get, create, update, delete, put, keys)
	requests atomic.Int64 // API requests sent to other nodes
}

// Ops reports the key-value operations and API requests this node has
// made so far (for the benchmark and metrics).
func (c *Cluster) Ops() (kvOps, requests int64) { return c.ops.kv.Load(), c.ops.requests.Load() }

// New validates cfg, connects to NATS (retrying in the background when
// no server answers yet: New does not fail for that) and starts the
// refresh loop and the API subscription.
func New(cfg Config, deps Deps) (*Cluster, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if !cfg.Enabled {
		return nil, errors.New("cluster: not enabled")
	}
	if deps.Local == nil {
		return nil, errors.New("cluster: no Local")
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Cluster{cfg: cfg, log: deps.Logger, local: deps.Local, api: deps.API, nodeKey: encodeKey(cfg.NodeName),
		kick: make(chan struct{}, 1), claims: make(map[string]*claim), apiSem: make(chan struct{}, 32)}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	nc, err := nats.Connect(cfg.servers(), c.natsOptions()...)
	if err != nil {
		return nil, fmt.Errorf("cluster: connect to NATS: %w", err)
	}
	c.nc = nc
	if c.js, err = jetstream.New(nc); err != nil {
		nc.Close()
		return nil, fmt.Errorf("cluster: jetstream: %w", err)
	}
	if c.sub, err = nc.Subscribe(apiSubject(c.nodeKey), c.serveAPI); err != nil {
		nc.Close()
		return nil, fmt.Errorf("cluster: subscribe: %w", err)
	}
	c.wg.Add(1)
	go c.run()
	return c, nil
}

// natsOptions are the connection's options: retry forever, log and
// refresh on reconnect.
func (c *Cluster) natsOptions() []nats.Option {
	opts := []nats.Option{
		nats.Name("kiroku " + c.cfg.NodeName),
		nats.RetryOnFailedConnect(true),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(500 * time.Millisecond),
		nats.Timeout(c.cfg.RequestTimeout),
		nats.PingInterval(c.cfg.RefreshInterval()),
		nats.MaxPingsOutstanding(2),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			c.log.Warn("NATS disconnected: new channels are refused until it is back", "err", err)
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			c.log.Info("NATS connected", "server", nc.ConnectedUrlRedacted())
			c.refreshSoon()
		}),
		nats.ConnectHandler(func(nc *nats.Conn) {
			c.log.Info("NATS connected", "server", nc.ConnectedUrlRedacted())
			c.refreshSoon()
		}),
	}
	if c.cfg.CredsFile != "" {
		opts = append(opts, nats.UserCredentials(c.cfg.CredsFile))
	}
	if c.cfg.TLSCAFile != "" {
		opts = append(opts, nats.RootCAs(c.cfg.TLSCAFile))
	}
	return opts
}

// NodeName is this node's name.
func (c *Cluster) NodeName() string { return c.cfg.NodeName }

// Connected reports whether NATS is connected and the buckets are ready.
func (c *Cluster) Connected() bool {
	c.mu.Lock()
	ready := c.kv != nil
	c.mu.Unlock()
	return ready && c.nc.IsConnected()
}

// WaitReady waits until NATS is connected and the buckets exist, or ctx
// ends.
func (c *Cluster) WaitReady(ctx context.Context) error {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for !c.Connected() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("cluster: waiting for NATS: %w", ctx.Err())
		case <-t.C:
		}
	}
	return nil
}

func (c *Cluster) refreshSoon() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// run renews the registry entry and the claims every RefreshInterval,
// and at once after a reconnect, until Close.
func (c *Cluster) run() {
	defer c.wg.Done()
	t := time.NewTicker(c.cfg.RefreshInterval())
	defer t.Stop()
	for {
		c.refresh()
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
		case <-c.kick:
		}
	}
}

// refresh makes the buckets if needed, writes the heartbeat and renews,
// makes or releases claims.
func (c *Cluster) refresh() {
	if !c.nc.IsConnected() {
		return
	}
	kv, err := c.buckets()
	if err != nil {
		c.log.Warn("cluster buckets", "err", err)
		return
	}
	if err := c.heartbeat(kv); err != nil {
		c.log.Warn("cluster heartbeat", "err", err)
	}
	c.refreshClaims(kv)
}

// opContext bounds one NATS operation.
func (c *Cluster) opContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.cfg.RequestTimeout)
}

// Close stops the refresh loop, releases every claim, removes the
// registry entry and closes the connection. Call it after the node's
// sessions have ended. It is idempotent.
func (c *Cluster) Close(ctx context.Context) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed, c.leaving = true, true
	c.mu.Unlock()
	c.cancel()
	err := c.sub.Unsubscribe()
	if errors.Is(err, nats.ErrConnectionClosed) {
		err = nil
	}
	c.wg.Wait()
	err = errors.Join(err, c.releaseAll(ctx), c.deregister(ctx))
	fctx, cancel := c.opContext(ctx)
	defer cancel()
	if ferr := c.nc.FlushWithContext(fctx); ferr != nil && c.nc.IsConnected() {
		err = errors.Join(err, fmt.Errorf("cluster: flush: %w", ferr))
	}
	c.nc.Close()
	if err != nil {
		return fmt.Errorf("cluster close: %w", err)
	}
	return nil
}

// encodeKey turns a channel id or node name into a key-value key and
// subject token: unpadded base64url, whose alphabet NATS accepts.
func encodeKey(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func apiSubject(nodeKey string) string { return "kiroku.api." + nodeKey }

func (c *Cluster) now() time.Time { return time.Now() }
