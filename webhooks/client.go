package webhooks

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Kind is one of Sora's three webhook endpoints.
type Kind string

// Webhook kinds; their names prefix the JSONL log files.
const (
	Auth    Kind = "auth"
	Session Kind = "session"
	Event   Kind = "event"
)

// maxResponseBytes bounds a webhook response body we read.
const maxResponseBytes = 1 << 20

// ErrNotConfigured is returned for a kind whose URL is unset.
var ErrNotConfigured = errors.New("webhooks: URL not configured")

// Client sends webhooks. Auth and session.created calls are synchronous
// (their replies matter); everything else is queued per kind, sent in
// order by one goroutine per kind, and retried with backoff, so callers on
// the media or signaling path never wait for a slow endpoint.
type Client struct {
	cfg    Config
	http   *http.Client
	logger *slog.Logger
	now    func() time.Time
	log    *callLog
	stats  *Stats

	ctx    context.Context
	cancel context.CancelFunc
	queues map[Kind]chan queued
	// pending counts queued plus in-flight webhooks, for Close's flush.
	pending atomic.Int64
	wg      sync.WaitGroup
	once    sync.Once
}

type queued struct {
	payload []byte
	headers http.Header
	typ     string
}

// New validates cfg and starts the senders. now may be nil (time.Now).
func New(cfg Config, logger *slog.Logger, now func() time.Time) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("webhooks: %w", err)
	}
	if now == nil {
		now = time.Now
	}
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	transport, err := newTransport(cfg.CACertFile)
	if err != nil {
		return nil, err
	}
	lg, err := openCallLog(cfg.LogDir)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &Client{
		cfg:    cfg,
		http:   &http.Client{Transport: transport, Timeout: cfg.Timeout, CheckRedirect: noRedirect},
		logger: logger,
		now:    now,
		log:    lg,
		stats:  newStats(),
		ctx:    ctx,
		cancel: cancel,
		queues: map[Kind]chan queued{Session: make(chan queued, cfg.QueueSize), Event: make(chan queued, cfg.QueueSize)},
	}
	for kind, q := range c.queues {
		c.wg.Add(1)
		go c.drain(kind, q)
	}
	return c, nil
}

func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

func newTransport(caFile string) (*http.Transport, error) {
	t := http.DefaultTransport.(*http.Transport).Clone()
	if caFile == "" {
		return t, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("webhooks: webhook_tls_verify_cacert_file: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("webhooks: webhook_tls_verify_cacert_file %s: no PEM certificate found", caFile)
	}
	t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return t, nil
}

// ReopenLogs reopens the webhook log files at their paths (after
// logrotate renamed them); no line is lost. Without log_dir, or after
// Close, it does nothing.
func (c *Client) ReopenLogs() error { return c.log.reopen() }

// Stats returns the client's counters.
func (c *Client) Stats() *Stats { return c.stats }

// Configured reports whether kind has a URL.
func (c *Client) Configured(kind Kind) bool { return c.url(kind) != "" }

func (c *Client) url(kind Kind) string {
	switch kind {
	case Auth:
		return c.cfg.AuthURL
	case Session:
		return c.cfg.SessionURL
	case Event:
		return c.cfg.EventURL
	}
	return ""
}

// Call posts payload to kind's URL once and decodes a 200 reply's JSON body
// into reply (when reply is non-nil). Any other status, a time-out or a body
// that is not JSON is an error. Used for auth and session.created.
func (c *Client) Call(ctx context.Context, kind Kind, typ string, payload any, headers http.Header, reply any) error {
	body, err := c.encode(kind, typ, payload)
	if err != nil {
		return err
	}
	if err := c.postDecode(ctx, kind, typ, body, headers, reply); err != nil {
		c.stats.add(kind, outcomeFailed)
		return err
	}
	c.stats.add(kind, outcomeSuccessful)
	return nil
}

// encode is the body of a call to kind's URL; ErrNotConfigured (counted as
// ignored) when kind has none.
func (c *Client) encode(kind Kind, typ string, payload any) ([]byte, error) {
	if c.url(kind) == "" {
		c.stats.add(kind, outcomeIgnored)
		return nil, ErrNotConfigured
	}
	body, err := json.Marshal(payload)
	if err != nil {
		return nil, fmt.Errorf("webhooks: encode %s %s: %w", kind, typ, err)
	}
	return body, nil
}

// postDecode posts body and decodes a 200 reply into reply (when not nil).
func (c *Client) postDecode(ctx context.Context, kind Kind, typ string, body []byte, headers http.Header, reply any) error {
	respBody, err := c.post(ctx, kind, typ, body, headers)
	if err != nil || reply == nil {
		return err
	}
	if err := json.Unmarshal(respBody, reply); err != nil {
		err = fmt.Errorf("webhooks: %s %s: reply is not the expected JSON: %w", kind, typ, err)
		c.log.write(kind, typ, c.now(), body, 200, 0, err)
		return err
	}
	return nil
}

// CallRetrying is Call for a webhook whose reply matters but whose sender
// is not waiting on it (session.created): a failed attempt is retried with
// the configured backoff and retry count, each attempt bounded by the
// webhook time-out and posting the same body (the same id, so a receiver
// can tell a retry from a new event). It stops early, returning the last
// error, when ctx ends or stillWanted reports false before a retry.
func (c *Client) CallRetrying(ctx context.Context, kind Kind, typ string, payload any, headers http.Header,
	reply any, stillWanted func() bool) error {
	body, err := c.encode(kind, typ, payload)
	if err != nil {
		return err
	}
	delay := c.cfg.RetryInterval
	for attempt := 0; ; attempt++ {
		err = c.callOnce(ctx, kind, typ, body, headers, reply)
		if err == nil {
			c.stats.add(kind, outcomeSuccessful)
			return nil
		}
		if attempt >= c.cfg.MaxRetries || ctx.Err() != nil {
			break
		}
		c.logger.Warn("webhook failed, will retry", "kind", kind, "type", typ, "attempt", attempt+1, "err", err)
		if !sleep(ctx, jitter(delay)) || (stillWanted != nil && !stillWanted()) {
			break
		}
		delay = min(2*delay, c.cfg.MaxRetryInterval)
	}
	c.stats.add(kind, outcomeFailed)
	return err
}

// callOnce is postDecode within one webhook time-out.
func (c *Client) callOnce(ctx context.Context, kind Kind, typ string, body []byte, headers http.Header, reply any) error {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	return c.postDecode(ctx, kind, typ, body, headers, reply)
}

// Send queues payload for kind's URL and returns at once. It reports false
// when the kind is not configured or its queue is full (the webhook is
// dropped, counted and logged).
func (c *Client) Send(kind Kind, typ string, payload any, headers http.Header) bool {
	q, ok := c.queues[kind]
	if !ok || c.url(kind) == "" {
		c.stats.add(kind, outcomeIgnored)
		return false
	}
	body, err := json.Marshal(payload)
	if err != nil {
		c.logger.Error("webhook payload not encodable", "kind", kind, "type", typ, "err", err)
		c.stats.add(kind, outcomeFailed)
		return false
	}
	select {
	case <-c.ctx.Done():
		c.stats.add(kind, outcomeFailed)
		return false
	case q <- queued{payload: body, headers: headers, typ: typ}:
		c.pending.Add(1)
		return true
	default:
		c.logger.Error("webhook queue full: dropped", "kind", kind, "type", typ)
		c.stats.add(kind, outcomeDropped)
		return false
	}
}

// drain sends kind's queue in order, retrying each item with backoff.
func (c *Client) drain(kind Kind, q chan queued) {
	defer c.wg.Done()
	for {
		select {
		case <-c.ctx.Done():
			return
		case item := <-q:
			c.deliver(kind, item)
			c.pending.Add(-1)
		}
	}
}

// deliver sends one queued webhook, retrying per the configuration.
func (c *Client) deliver(kind Kind, item queued) {
	delay := c.cfg.RetryInterval
	for attempt := 0; ; attempt++ {
		_, err := c.post(c.ctx, kind, item.typ, item.payload, item.headers)
		if err == nil {
			c.stats.add(kind, outcomeSuccessful)
			return
		}
		if attempt >= c.cfg.MaxRetries || c.ctx.Err() != nil {
			c.logger.Error("webhook failed, giving up", "kind", kind, "type", item.typ, "attempts", attempt+1, "err", err)
			c.stats.add(kind, outcomeFailed)
			return
		}
		c.logger.Warn("webhook failed, will retry", "kind", kind, "type", item.typ, "attempt", attempt+1, "err", err)
		if !sleep(c.ctx, jitter(delay)) {
			c.stats.add(kind, outcomeFailed)
			return
		}
		delay = min(2*delay, c.cfg.MaxRetryInterval)
	}
}

// post sends one request and returns a 200 reply's body.
func (c *Client) post(ctx context.Context, kind Kind, typ string, body []byte, headers http.Header) ([]byte, error) {
	start := c.now()
	defer func() { c.stats.observe(kind, c.now().Sub(start)) }()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url(kind), bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("webhooks: %s %s: %w", kind, typ, err)
	}
	for k, vs := range headers {
		req.Header[k] = vs
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		err = fmt.Errorf("webhooks: %s %s: %w", kind, typ, err)
		c.log.write(kind, typ, start, body, 0, c.now().Sub(start), err)
		return nil, err
	}
	defer resp.Body.Close()
	respBody, readErr := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("webhooks: %s %s: HTTP status %d", kind, typ, resp.StatusCode)
	} else if readErr != nil {
		err = fmt.Errorf("webhooks: %s %s: read reply: %w", kind, typ, readErr)
	}
	c.log.write(kind, typ, start, body, resp.StatusCode, c.now().Sub(start), err)
	return respBody, err
}

// Close stops accepting webhooks, keeps delivering what is queued until ctx
// ends, then stops every sender and closes the log files.
func (c *Client) Close(ctx context.Context) error {
	var err error
	c.once.Do(func() {
		c.flush(ctx)
		c.cancel()
		c.wg.Wait()
		err = c.log.close()
	})
	return err
}

// flush waits until nothing is queued or in flight, or ctx ends.
func (c *Client) flush(ctx context.Context) {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if c.pending.Load() <= 0 {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
