package cluster

import (
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("defaults with cluster off: %v", err)
	}
	good := DefaultConfig()
	good.Enabled, good.NATSURLs, good.NodeName = true, []string{"nats://10.0.0.1:4222", "tls://10.0.0.2:4222"}, "n1"
	good.ExternalSignalingURL = "wss://n1.example.com/signaling"
	if err := good.Validate(); err != nil {
		t.Fatalf("a complete config: %v", err)
	}
	for _, tc := range []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"no url", func(c *Config) { c.NATSURLs = nil }, "cluster_nats_url is required"},
		{"http url", func(c *Config) { c.NATSURLs = []string{"http://x:4222"} }, "cluster_nats_url"},
		{"no name", func(c *Config) { c.NodeName = "" }, "node_name"},
		{"no signaling url", func(c *Config) { c.ExternalSignalingURL = "" }, "external_signaling_url"},
		{"short ttl", func(c *Config) { c.ClaimTTL = time.Second }, "cluster_channel_claim_ttl"},
		{"replicas", func(c *Config) { c.Replicas = 0 }, "cluster_kv_replicas"},
		{"timeout over ttl", func(c *Config) { c.RequestTimeout = c.ClaimTTL }, "cluster_request_timeout"},
		{"missing creds", func(c *Config) { c.CredsFile = "/nonexistent.creds" }, "nonexistent.creds"},
	} {
		c := good
		tc.change(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error naming %s", tc.name, err, tc.want)
		}
	}
}

func TestEncodeKeyIsAValidToken(t *testing.T) {
	for _, s := range []string{"x", "日本語 チャンネル", "a.b*c>d", strings.Repeat("z", 255), "kiroku@127.0.0.1"} {
		k := encodeKey(s)
		for _, r := range k {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				t.Fatalf("key of %q is %q: %q is not allowed in a KV key or subject token", s, k, r)
			}
		}
	}
}
