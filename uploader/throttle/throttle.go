// Package throttle limits and counts the bytes an upload sends.
//
// A Meter belongs to one file: it holds that file's rate limit and counts
// the request-body bytes sent for it. WithMeter attaches a Meter to the
// context of the file's upload calls, and Client, the HTTP client under the
// S3 client, meters every request body sent under such a context. Metering
// the requests counts what goes on the wire once,
// however many times a client reads a part to checksum or sign it.
package throttle

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"

	"golang.org/x/time/rate"
)

// chunk bounds one limiter wait so that bursts stay small.
const chunk = 64 << 10

// Meter limits and counts one file's upload. It is safe for concurrent use
// by the parts of a multipart upload.
type Meter struct {
	limiter *rate.Limiter // nil: unlimited
	sent    atomic.Int64
}

// NewMeter returns a Meter limited to mbps megabits per second; 0 or less
// means unlimited.
func NewMeter(mbps float64) *Meter {
	m := &Meter{}
	if mbps > 0 {
		m.limiter = rate.NewLimiter(rate.Limit(mbps*1e6/8), chunk)
	}
	return m
}

// Sent is the number of body bytes sent so far, retries included.
func (m *Meter) Sent() int64 { return m.sent.Load() }

type meterKey struct{}

// WithMeter returns a context whose HTTP requests Transport meters with m.
func WithMeter(ctx context.Context, m *Meter) context.Context {
	return context.WithValue(ctx, meterKey{}, m)
}

func meterFrom(ctx context.Context) *Meter {
	m, _ := ctx.Value(meterKey{}).(*Meter)
	return m
}

// Doer sends HTTP requests, as *http.Client and the AWS SDK's clients do.
type Doer interface {
	Do(*http.Request) (*http.Response, error)
}

// Client meters request bodies whose context carries a Meter and passes
// every request on to Base (http.DefaultClient when nil).
type Client struct {
	Base Doer
}

// Do implements Doer.
func (c *Client) Do(req *http.Request) (*http.Response, error) {
	base := c.Base
	if base == nil {
		base = http.DefaultClient
	}
	m := meterFrom(req.Context())
	if m == nil || req.Body == nil || req.Body == http.NoBody {
		return base.Do(req)
	}
	out := req.Clone(req.Context())
	out.Body = &body{rc: req.Body, m: m, ctx: req.Context()}
	if req.GetBody != nil {
		out.GetBody = func() (io.ReadCloser, error) {
			rc, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			return &body{rc: rc, m: m, ctx: req.Context()}, nil
		}
	}
	return base.Do(out)
}

// body is a metered request body.
type body struct {
	rc  io.ReadCloser
	m   *Meter
	ctx context.Context
}

// Read waits for the meter's limiter, then reads at most one chunk.
func (b *body) Read(p []byte) (int, error) {
	n := min(len(p), chunk)
	if b.m.limiter != nil {
		if err := b.m.limiter.WaitN(b.ctx, n); err != nil {
			return 0, fmt.Errorf("throttle: %w", err)
		}
	}
	got, err := b.rc.Read(p[:n])
	b.m.sent.Add(int64(got))
	return got, err
}

// Close closes the wrapped body.
func (b *body) Close() error { return b.rc.Close() }
