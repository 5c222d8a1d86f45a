package signaling

import (
	"net/http/httptest"
	"testing"
)

// TestClientAddress believes forwarded headers from the configured
// proxies only, and counts the ones it does not believe.
func TestClientAddress(t *testing.T) {
	for _, tc := range []struct {
		name    string
		enabled bool
		peer    string
		headers map[string]string
		want    string
		ignored uint64
	}{
		{"direct", true, "203.0.113.9:5555", nil, "203.0.113.9", 0},
		{"X-Real-IP from the proxy", true, "127.0.0.1:40000", map[string]string{"X-Real-IP": "198.51.100.7"}, "198.51.100.7", 0},
		{"X-Forwarded-For from the proxy: the last hop", true, "127.0.0.1:40000",
			map[string]string{"X-Forwarded-For": "192.0.2.1, 198.51.100.7"}, "198.51.100.7", 0},
		{"IPv6 from a proxy in a trusted prefix", true, "[fd00::2]:40000", map[string]string{"X-Real-IP": "2001:db8::7"}, "2001:db8::7", 0},
		{"from a stranger", true, "203.0.113.9:5555", map[string]string{"X-Real-IP": "198.51.100.7"}, "203.0.113.9", 1},
		{"headers off", false, "127.0.0.1:40000", map[string]string{"X-Real-IP": "198.51.100.7"}, "127.0.0.1", 1},
		{"garbage from the proxy", true, "127.0.0.1:40000", map[string]string{"X-Real-IP": "nginx", "X-Forwarded-For": "x"}, "127.0.0.1", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			proxies, err := forwardedSources([]string{"127.0.0.1", "fd00::/64"})
			if err != nil {
				t.Fatal(err)
			}
			srv := &Server{cfg: Config{ForwardedHeaders: tc.enabled}, proxies: proxies}
			r := httptest.NewRequest("GET", "/signaling", nil)
			r.RemoteAddr = tc.peer
			for k, v := range tc.headers {
				r.Header.Set(k, v)
			}
			if got := srv.clientAddress(r); got != tc.want {
				t.Fatalf("client address %q, want %q", got, tc.want)
			}
			if got := srv.counters.ignoredForwarded.Load(); got != tc.ignored {
				t.Fatalf("ignored %d, want %d", got, tc.ignored)
			}
		})
	}
}

// TestForwardedConfig refuses forwarded headers without sources and
// sources that are not addresses.
func TestForwardedConfig(t *testing.T) {
	for _, tc := range []struct {
		name    string
		on      bool
		sources []string
		ok      bool
	}{
		{"off", false, nil, true},
		{"on with a proxy", true, []string{"127.0.0.1", "::1", "10.0.0.0/8"}, true},
		{"on without sources", true, nil, false},
		{"a host name", true, []string{"nginx"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			c.ForwardedHeaders, c.ForwardedSources = tc.on, tc.sources
			if err := c.Validate(); (err == nil) != tc.ok {
				t.Fatalf("Validate() = %v, want ok %v", err, tc.ok)
			}
		})
	}
}
