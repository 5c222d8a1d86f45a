// Package hook sends the uploader's webhooks as sora-archive-uploader
// sends them: a JSON POST per uploaded file, its type in a configurable
// header, success only on status 200, no redirects followed, optional Basic
// auth, custom CA and client certificate, and retries with exponential
// backoff and jitter.
package hook

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mathrand "math/rand/v2"
	"net/http"
	"os"
	"time"

	"github.com/kiroku-sfu/kiroku/uploader/scan"
)

// idEncoding is Crockford's base32 alphabet, in which Sora writes its ids.
var idEncoding = base32.NewEncoding("0123456789ABCDEFGHJKMNPQRSTVWXYZ").WithPadding(base32.NoPadding)

// Event is one uploaded file to announce.
type Event struct {
	Kind scan.Kind
	Meta scan.Meta // the file's JSON
	// File is the media file for Archive and Split, else the JSON itself:
	// its name relative to archive_dir ("<recording_id>/<name>") and URL.
	FileName, FileURL string
	// Metadata is the JSON of an Archive or Split event.
	MetadataFileName, MetadataFileURL string
	// StrayFiles names, for a Report, the media files of the recording
	// directory left behind ("<recording_id>/<name>"): no JSON came for
	// them and the report does not reference them.
	StrayFiles []string
}

// Sender posts events. It is safe for concurrent use.
type Sender struct {
	cfg    Config
	client *http.Client
	now    func() time.Time
}

// New returns a Sender for cfg; now stamps events.
func New(cfg Config, now func() time.Time) (*Sender, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("hook: %w", err)
	}
	tlsConfig, err := cfg.tlsConfig()
	if err != nil {
		return nil, fmt.Errorf("hook: %w", err)
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = tlsConfig
	client := &http.Client{
		Transport: transport,
		Timeout:   cfg.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	return &Sender{cfg: cfg, client: client, now: now}, nil
}

// tlsConfig builds the TLS settings: the custom CA and the client
// certificate, when configured.
func (c Config) tlsConfig() (*tls.Config, error) {
	conf := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.CACertPath != "" {
		pem, err := os.ReadFile(c.CACertPath)
		if err != nil {
			return nil, fmt.Errorf("read CA: %w", err)
		}
		conf.RootCAs = x509.NewCertPool()
		if !conf.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("no certificate in %s", c.CACertPath)
		}
	}
	if c.FullchainPath != "" {
		cert, err := tls.LoadX509KeyPair(c.FullchainPath, c.PrivkeyPath)
		if err != nil {
			return nil, fmt.Errorf("client certificate: %w", err)
		}
		conf.Certificates = []tls.Certificate{cert}
	}
	return conf, nil
}

// Enabled reports whether a webhook URL is configured.
func (s *Sender) Enabled() bool { return s.cfg.URL != "" }

// Close releases idle connections.
func (s *Sender) Close() { s.client.CloseIdleConnections() }

// HealthCheck GETs the health check URL, if any, and wants 200.
func (s *Sender) HealthCheck(ctx context.Context) error {
	if s.cfg.HealthCheckURL == "" {
		return nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.cfg.HealthCheckURL, nil)
	if err != nil {
		return fmt.Errorf("webhook health check: %w", err)
	}
	return s.do(req)
}

// Send posts ev, retrying with backoff up to MaxAttempts times. Every try
// carries the same event id, so a receiver can drop repeats.
func (s *Sender) Send(ctx context.Context, ev Event) error {
	if !s.Enabled() {
		return nil
	}
	typ := s.typeOf(ev.Kind)
	body, err := json.Marshal(s.payload(ev, typ))
	if err != nil {
		return fmt.Errorf("webhook %s: encode: %w", typ, err)
	}
	wait := s.cfg.RetryInterval
	for attempt := 1; ; attempt++ {
		err = s.post(ctx, typ, body)
		if err == nil || attempt >= s.cfg.MaxAttempts {
			break
		}
		jittered := wait/2 + time.Duration(mathrand.Int64N(int64(wait)))
		select {
		case <-ctx.Done():
			return fmt.Errorf("webhook %s %s: %w (last: %w)", typ, ev.FileName, ctx.Err(), err)
		case <-time.After(jittered):
		}
		wait *= 2
	}
	if err != nil {
		return fmt.Errorf("webhook %s %s after %d attempts: %w", typ, ev.FileName, s.cfg.MaxAttempts, err)
	}
	return nil
}

func (s *Sender) post(ctx context.Context, typ string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(s.cfg.TypeHeader, typ)
	return s.do(req)
}

// do sends req and wants exactly 200.
func (s *Sender) do(req *http.Request) error {
	if s.cfg.BasicAuthUsername != "" {
		req.SetBasicAuth(s.cfg.BasicAuthUsername, s.cfg.BasicAuthPassword)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %w: %s", req.Method, req.URL.Redacted(), ErrStatus, resp.Status)
	}
	return nil
}

// ErrStatus is a response other than 200.
var ErrStatus = errors.New("webhook endpoint did not answer 200")

func (s *Sender) typeOf(k scan.Kind) string {
	switch k {
	case scan.Archive:
		return s.cfg.TypeArchive
	case scan.Split:
		return s.cfg.TypeSplit
	case scan.SplitEnd:
		return s.cfg.TypeSplitEnd
	}
	return s.cfg.TypeReport
}

// newID is a random UUIDv4 in Crockford base32, as Sora's ids are.
func newID() string {
	var u [16]byte
	_, _ = rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return idEncoding.EncodeToString(u[:])
}
