package api

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Config is the HTTP API's configuration. Its zero value lets no browser
// page call the API (requests without an Origin header, such as curl's,
// are always served).
type Config struct {
	// CORSAllowOrigins lists the web origins (scheme://host[:port]) whose
	// pages may call the API from a browser. Only these get CORS headers,
	// each naming the caller's own origin; a request from any other origin
	// is refused with 403. Nil means "not configured": whoever assembles
	// the settings replaces it with DefaultCORSAllowOrigins. An empty,
	// non-nil list allows no origin.
	CORSAllowOrigins []string `conf:"api_cors_allow_origins"`
	// Forwarder, in a cluster, carries channel-scoped calls to the node
	// holding the channel and gathers node-wide lists (cluster.go); nil
	// answers everything here.
	Forwarder Forwarder
}

// DefaultCORSAllowOrigins is the dev tools page's own origin on the
// signaling port, under both of the loopback names a browser may use.
func DefaultCORSAllowOrigins(signalingPort uint16) []string {
	port := strconv.Itoa(int(signalingPort))
	return []string{"http://127.0.0.1:" + port, "http://localhost:" + port, "http://[::1]:" + port}
}

// WithDefaultOrigins returns c with CORSAllowOrigins set to
// DefaultCORSAllowOrigins(signalingPort) when the configuration did not
// set the key.
func (c Config) WithDefaultOrigins(signalingPort uint16) Config {
	if c.CORSAllowOrigins == nil {
		c.CORSAllowOrigins = DefaultCORSAllowOrigins(signalingPort)
	}
	return c
}

// Validate checks that every allowed origin is a plain http or https
// origin: no wildcard, path, query or user name.
func (c Config) Validate() error {
	var errs []error
	for _, o := range c.CORSAllowOrigins {
		if _, err := normalizeOrigin(o); err != nil {
			errs = append(errs, fmt.Errorf("api_cors_allow_origins: %w", err))
		}
	}
	return errors.Join(errs...)
}

// normalizeOrigin returns o as a browser serializes an Origin header:
// lower-case scheme and host, no default port, no trailing slash.
func normalizeOrigin(o string) (string, error) {
	if strings.Contains(o, "*") {
		return "", fmt.Errorf("%q: wildcards are not allowed, list each origin", o)
	}
	u, err := url.Parse(strings.TrimSuffix(o, "/"))
	if err != nil {
		return "", fmt.Errorf("%q: %w", o, err)
	}
	scheme := strings.ToLower(u.Scheme)
	switch {
	case scheme != "http" && scheme != "https":
		return "", fmt.Errorf("%q: want http://HOST[:PORT] or https://HOST[:PORT]", o)
	case u.Host == "" || u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "":
		return "", fmt.Errorf("%q: an origin is scheme://host[:port], nothing more", o)
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	return scheme + "://" + host, nil
}
