package signaling

import (
	"fmt"
	"net"
	"net/http"
	"strings"
)

// Behind a reverse proxy (nginx in seed 000's layout) every request comes
// from the proxy; the client's address is in X-Real-IP or
// X-Forwarded-For. They are believed only from the configured proxies
// (Config.ForwardedSources): from anyone else such a header is ignored and
// counted, so a client cannot choose the address it is known by.

// forwardedSources parses the proxies' addresses and CIDR prefixes.
func forwardedSources(sources []string) ([]*net.IPNet, error) {
	var out []*net.IPNet
	for _, src := range sources {
		if _, n, err := net.ParseCIDR(src); err == nil {
			out = append(out, n)
			continue
		}
		ip := net.ParseIP(src)
		if ip == nil {
			return nil, fmt.Errorf("signaling_forwarded_sources: %q is not an address or CIDR prefix", src)
		}
		bits := 128
		if ip.To4() != nil {
			ip, bits = ip.To4(), 32
		}
		out = append(out, &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)})
	}
	return out, nil
}

// clientAddress is the address of the client of r: the peer's, or with
// forwarded headers enabled and the peer a trusted proxy, the one its
// X-Real-IP (else the last entry of X-Forwarded-For) names.
func (srv *Server) clientAddress(r *http.Request) string {
	peer, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		peer = r.RemoteAddr
	}
	forwarded := r.Header.Get("X-Real-IP") != "" || r.Header.Get("X-Forwarded-For") != ""
	if !forwarded {
		return peer
	}
	if !srv.cfg.ForwardedHeaders || !inNets(net.ParseIP(peer), srv.proxies) {
		srv.counters.ignoredForwarded.Add(1)
		return peer
	}
	if ip := net.ParseIP(strings.TrimSpace(r.Header.Get("X-Real-IP"))); ip != nil {
		return ip.String()
	}
	// The proxy appends the address it saw last.
	hops := strings.Split(r.Header.Get("X-Forwarded-For"), ",")
	if ip := net.ParseIP(strings.TrimSpace(hops[len(hops)-1])); ip != nil {
		return ip.String()
	}
	srv.counters.ignoredForwarded.Add(1)
	return peer
}

func inNets(ip net.IP, nets []*net.IPNet) bool {
	if ip == nil {
		return false
	}
	for _, n := range nets {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}
