package hook

import (
	"errors"
	"fmt"
	"net/url"
	"time"
)

// Config is the webhook part of the uploader's configuration, with
// sora-archive-uploader's key names.
type Config struct {
	// URL receives a POST per uploaded file; empty disables webhooks.
	URL string `conf:"webhook_endpoint_url"`
	// HealthCheckURL, when set, must answer a GET with 200 at start.
	HealthCheckURL string `conf:"webhook_endpoint_health_check_url"`
	// TypeHeader carries the event type.
	TypeHeader string `conf:"webhook_type_header_name"`
	// The event type values.
	TypeArchive  string `conf:"webhook_type_archive_uploaded"`
	TypeSplit    string `conf:"webhook_type_split_archive_uploaded"`
	TypeSplitEnd string `conf:"webhook_type_split_archive_end_uploaded"`
	TypeReport   string `conf:"webhook_type_report_uploaded"`
	// Timeout bounds one request.
	Timeout time.Duration `conf:"webhook_request_timeout_s"`
	// ExcludeRecordingMetadata leaves recording_metadata out of the report event.
	ExcludeRecordingMetadata bool `conf:"exclude_webhook_recording_metadata"`
	// BasicAuthUsername and BasicAuthPassword, when set, authenticate requests.
	BasicAuthUsername string `conf:"webhook_basic_auth_username"`
	BasicAuthPassword string `conf:"webhook_basic_auth_password"`
	// CACertPath is a PEM file of CAs trusted for an https URL (instead of the system's).
	CACertPath string `conf:"webhook_tls_verify_cacert_path"`
	// FullchainPath and PrivkeyPath, PEM files, make the client present a
	// certificate (mutual TLS).
	FullchainPath string `conf:"webhook_tls_fullchain_path"`
	PrivkeyPath   string `conf:"webhook_tls_privkey_path"`
	// MaxAttempts bounds the tries of one event within one Send.
	MaxAttempts int `conf:"webhook_max_attempts"`
	// RetryInterval is the first wait between tries; it doubles, with jitter.
	RetryInterval time.Duration `conf:"webhook_retry_interval"`
}

// DefaultConfig returns sora-archive-uploader's defaults plus ours: up to 5
// attempts starting 1 s apart.
func DefaultConfig() Config {
	return Config{
		TypeHeader:    "sora-archive-uploader-webhook-type",
		TypeArchive:   "archive.uploaded",
		TypeSplit:     "split-archive.uploaded",
		TypeSplitEnd:  "split-archive-end.uploaded",
		TypeReport:    "recording-report.uploaded",
		Timeout:       30 * time.Second,
		MaxAttempts:   5,
		RetryInterval: time.Second,
	}
}

// Validate reports every problem of c at once.
func (c Config) Validate() error {
	var errs []error
	errs = append(errs, checkURL("webhook_endpoint_url", c.URL), checkURL("webhook_endpoint_health_check_url", c.HealthCheckURL))
	if c.TypeHeader == "" {
		errs = append(errs, errors.New("webhook_type_header_name must not be empty"))
	}
	if c.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("webhook_request_timeout_s %v: want more than 0", c.Timeout))
	}
	if c.MaxAttempts < 1 {
		errs = append(errs, fmt.Errorf("webhook_max_attempts %d: want 1 or more", c.MaxAttempts))
	}
	if c.RetryInterval <= 0 {
		errs = append(errs, fmt.Errorf("webhook_retry_interval %v: want more than 0", c.RetryInterval))
	}
	if (c.FullchainPath == "") != (c.PrivkeyPath == "") {
		errs = append(errs, errors.New("webhook_tls_fullchain_path and webhook_tls_privkey_path go together"))
	}
	if (c.BasicAuthUsername == "") != (c.BasicAuthPassword == "") {
		errs = append(errs, errors.New("webhook_basic_auth_username and webhook_basic_auth_password go together"))
	}
	return errors.Join(errs...)
}

// checkURL accepts an empty or an http(s) URL.
func checkURL(key, u string) error {
	if u == "" {
		return nil
	}
	if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return fmt.Errorf("%s %q: want an http:// or https:// URL", key, u)
	}
	return nil
}
