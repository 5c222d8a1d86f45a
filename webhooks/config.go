package webhooks

import (
	"errors"
	"fmt"
	"net/url"
	"time"
)

// Config configures the webhook client. The conf tags are sora.conf keys.
type Config struct {
	AuthURL    string `conf:"auth_webhook_url"`
	SessionURL string `conf:"session_webhook_url"`
	EventURL   string `conf:"event_webhook_url"`
	// CACertFile is a PEM file of CA certificates trusted for https URLs
	// in addition to the system pool.
	CACertFile string `conf:"webhook_tls_verify_cacert_file"`
	// Timeout bounds one HTTP request. A timed-out auth webhook denies.
	Timeout time.Duration `conf:"webhook_timeout"`
	// MaxRetries is how often a failed session or event webhook is retried
	// (auth is never retried: the client is waiting).
	MaxRetries int `conf:"webhook_max_retries"`
	// RetryInterval is the first retry delay; it doubles per retry (with
	// jitter) up to MaxRetryInterval.
	RetryInterval    time.Duration `conf:"webhook_retry_interval"`
	MaxRetryInterval time.Duration `conf:"webhook_max_retry_interval"`
	// QueueSize bounds the queued session and event webhooks per kind;
	// beyond it new ones are dropped, counted and logged.
	QueueSize int `conf:"webhook_queue_size"`

	// LogDir receives <kind>_webhook.jsonl and <kind>_webhook_error.jsonl;
	// empty disables the files. Set by the caller from log_dir.
	LogDir string `conf:"-"`
	// Label, NodeName and Version fill every payload's common fields.
	Label    string `conf:"-"`
	NodeName string `conf:"-"`
	Version  string `conf:"-"`
}

// DefaultConfig returns the defaults: no URLs (webhooks off), 5 s time-out,
// 5 retries starting at 1 s and capped at 30 s, 1024 queued per kind.
func DefaultConfig() Config {
	return Config{
		Timeout:          5 * time.Second,
		MaxRetries:       5,
		RetryInterval:    time.Second,
		MaxRetryInterval: 30 * time.Second,
		QueueSize:        1024,
		Label:            "WebRTC SFU Sora",
		NodeName:         "kiroku@127.0.0.1",
		Version:          "kiroku",
	}
}

// Validate checks the configuration.
func (c Config) Validate() error {
	var errs []error
	for _, u := range []struct{ key, value string }{
		{"auth_webhook_url", c.AuthURL}, {"session_webhook_url", c.SessionURL}, {"event_webhook_url", c.EventURL},
	} {
		if u.value == "" {
			continue
		}
		parsed, err := url.Parse(u.value)
		if err != nil || (parsed.Scheme != "http" && parsed.Scheme != "https") || parsed.Host == "" {
			errs = append(errs, fmt.Errorf("%s: want an http:// or https:// URL, got %q", u.key, u.value))
		}
	}
	if c.Timeout <= 0 || c.Timeout > 5*time.Minute {
		errs = append(errs, fmt.Errorf("webhook_timeout: want 1 ms to 5 min, got %v", c.Timeout))
	}
	if c.MaxRetries < 0 || c.MaxRetries > 100 {
		errs = append(errs, fmt.Errorf("webhook_max_retries: want 0 to 100, got %d", c.MaxRetries))
	}
	if c.RetryInterval <= 0 || c.MaxRetryInterval < c.RetryInterval {
		errs = append(errs, errors.New("webhook_retry_interval must be > 0 and <= webhook_max_retry_interval"))
	}
	if c.QueueSize < 1 {
		errs = append(errs, fmt.Errorf("webhook_queue_size: want >= 1, got %d", c.QueueSize))
	}
	return errors.Join(errs...)
}
