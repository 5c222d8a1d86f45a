package cluster

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"
)

// Config is the cluster's part of sora.conf. With Enabled false (the
// default) a node runs alone and needs no NATS.
type Config struct {
	// Enabled turns the cluster on (Sora's key: cluster = true).
	Enabled bool `conf:"cluster"`
	// NATSURLs are the NATS servers (nats:// or tls://, user:password@
	// allowed); the client fails over between them.
	NATSURLs []string `conf:"cluster_nats_url"`
	// CredsFile is a NATS credentials file (JWT and NKey seed).
	CredsFile string `conf:"cluster_nats_creds_file"`
	// TLSCAFile is a PEM file of CAs to trust for tls:// servers; empty
	// trusts the system's.
	TLSCAFile string `conf:"cluster_nats_tls_ca_file"`
	// NodeName names this node in the registry, webhooks and sessions;
	// unique in the cluster.
	NodeName string `conf:"node_name"`
	// ExternalSignalingURL is this node's public signaling URL
	// (wss://host/signaling), sent in redirects to it.
	ExternalSignalingURL string `conf:"external_signaling_url"`
	// ClaimTTL is how long a claim or a registry entry outlives the last
	// refresh; refreshes run at a third of it.
	ClaimTTL time.Duration `conf:"cluster_channel_claim_ttl"`
	// Replicas is how many NATS servers keep each bucket (1 or 3 for a
	// three-server NATS cluster).
	Replicas int `conf:"cluster_kv_replicas"`
	// RequestTimeout bounds one NATS operation and one forwarded API call.
	RequestTimeout time.Duration `conf:"cluster_request_timeout"`
	// Version is reported in the registry.
	Version string `conf:"-"`
}

// DefaultConfig returns the defaults: cluster off, 10 s claims, one
// replica, 2 s requests.
func DefaultConfig() Config {
	return Config{ClaimTTL: 10 * time.Second, Replicas: 1, RequestTimeout: 2 * time.Second, Version: "kiroku"}
}

// RefreshInterval is how often claims and the registry entry are renewed.
func (c Config) RefreshInterval() time.Duration { return c.ClaimTTL / 3 }

// Validate checks the keys when the cluster is on.
func (c Config) Validate() error {
	if !c.Enabled {
		return nil
	}
	var errs []error
	if len(c.NATSURLs) == 0 {
		errs = append(errs, errors.New("cluster_nats_url is required with cluster = true"))
	}
	for _, u := range c.NATSURLs {
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "nats" && p.Scheme != "tls") || p.Host == "" {
			errs = append(errs, fmt.Errorf("cluster_nats_url %q: want nats://HOST:PORT or tls://HOST:PORT", u))
		}
	}
	if c.NodeName == "" {
		errs = append(errs, errors.New("node_name is required with cluster = true"))
	}
	if p, err := url.Parse(c.ExternalSignalingURL); err != nil || (p.Scheme != "ws" && p.Scheme != "wss") || p.Host == "" {
		errs = append(errs, fmt.Errorf("external_signaling_url %q: want wss://HOST/signaling (or ws://)", c.ExternalSignalingURL))
	}
	if c.ClaimTTL < 3*time.Second || c.ClaimTTL > 10*time.Minute {
		errs = append(errs, fmt.Errorf("cluster_channel_claim_ttl %v: want 3 s to 10 min", c.ClaimTTL))
	}
	if c.Replicas < 1 || c.Replicas > 5 {
		errs = append(errs, fmt.Errorf("cluster_kv_replicas %d: want 1 to 5", c.Replicas))
	}
	if c.RequestTimeout <= 0 || c.RequestTimeout >= c.ClaimTTL {
		errs = append(errs, fmt.Errorf("cluster_request_timeout %v: want above 0 and below the claim TTL", c.RequestTimeout))
	}
	for _, f := range []string{c.CredsFile, c.TLSCAFile} {
		if f == "" {
			continue
		}
		if _, err := os.Stat(f); err != nil {
			errs = append(errs, fmt.Errorf("cluster: %w", err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("cluster config: %w", err)
	}
	return nil
}

// servers is the URL list the NATS client takes.
func (c Config) servers() string { return strings.Join(c.NATSURLs, ",") }
