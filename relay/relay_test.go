package relay

import (
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/pion/turn/v5"
)

func startTest(t *testing.T) *Server {
	t.Helper()
	probe, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := probe.LocalAddr().(*net.UDPAddr).Port
	_ = probe.Close()
	s, err := New(Config{Address: "127.0.0.1", Port: uint16(port), TCP: true, Realm: "kiroku"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// allocate logs in with a pion TURN client and allocates a relay.
func allocate(t *testing.T, s *Server, user, pass string) (*turn.Client, net.PacketConn, error) {
	t.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := strings.TrimSuffix(strings.TrimPrefix(s.URLs()[0], "turn:"), "?transport=udp")
	c, err := turn.NewClient(&turn.ClientConfig{TURNServerAddr: addr, Username: user, Password: pass,
		Realm: "kiroku", Conn: conn, RTO: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); _ = conn.Close() })
	if err := c.Listen(); err != nil {
		t.Fatal(err)
	}
	relayed, err := c.Allocate()
	if err != nil {
		return c, nil, err
	}
	t.Cleanup(func() { _ = relayed.Close() })
	return c, relayed, nil
}

// TestRelayReachesOnlyTheSFU relays a datagram to a socket on the SFU's
// address and checks that other addresses are refused and that revoked
// or made-up credentials do not allocate.
func TestRelayReachesOnlyTheSFU(t *testing.T) {
	before := runtime.NumGoroutine()
	s := startTest(t)
	if got := s.URLs(); len(got) != 2 || !strings.HasSuffix(got[0], "?transport=udp") || !strings.HasSuffix(got[1], "?transport=tcp") {
		t.Fatalf("URLs = %v", got)
	}
	user, pass, err := s.Credentials("CONN1")
	if err != nil {
		t.Fatal(err)
	}
	sfu, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sfu.Close()
	_, relayed, err := allocate(t, s, user, pass)
	if err != nil {
		t.Fatalf("allocate with issued credentials: %v", err)
	}
	if _, err := relayed.WriteTo([]byte("media"), sfu.LocalAddr()); err != nil {
		t.Fatalf("relay to the SFU: %v", err)
	}
	_ = sfu.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 64)
	n, from, err := sfu.ReadFrom(buf)
	if err != nil || string(buf[:n]) != "media" || !from.(*net.UDPAddr).IP.Equal(net.IPv4(127, 0, 0, 1)) {
		t.Fatalf("the SFU got %q from %v (%v), want the relayed datagram", buf[:n], from, err)
	}
	// Anywhere else is refused: the permission request fails.
	if _, err := relayed.WriteTo([]byte("abuse"), &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2), Port: 9}); err == nil {
		t.Fatal("relayed to an address that is not the SFU's")
	}

	if _, _, err := allocate(t, s, user, "wrong"); err == nil {
		t.Fatal("allocated with a wrong password")
	}
	s.Revoke(user)
	if _, _, err := allocate(t, s, user, pass); err == nil {
		t.Fatal("allocated with revoked credentials")
	}
	_ = relayed.Close()
	_ = s.Close()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before+2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"ok", Config{Address: "127.0.0.1", Port: 3478, Realm: "r"}, true},
		{"no address", Config{Port: 3478, Realm: "r"}, false},
		{"unspecified address", Config{Address: "0.0.0.0", Port: 3478, Realm: "r"}, false},
		{"ipv6", Config{Address: "::1", Port: 3478, Realm: "r"}, false},
		{"dual stack", Config{Address: "127.0.0.1", Address6: "2001:db8::1", Port: 3478, Realm: "r"}, true},
		{"link-local ipv6", Config{Address: "127.0.0.1", Address6: "fe80::1", Port: 3478, Realm: "r"}, false},
		{"ipv4 as ipv6_address", Config{Address: "127.0.0.1", Address6: "192.0.2.1", Port: 3478, Realm: "r"}, false},
		{"no port", Config{Address: "127.0.0.1", Realm: "r"}, false},
		{"no realm", Config{Address: "127.0.0.1", Port: 3478}, false},
		{"seed 000's 443 layout", Config{Address: "127.0.0.1", Port: 3478, Realm: "r", TCP: true, TCPListenPort: 3478,
			TCPPort: 443, TLS: true, TLSHost: "sora-turn.example.com", TLSPort: 443, ProxyProtocol: true,
			ProxySources: []string{"127.0.0.1", "198.18.0.0/24"}}, true},
		{"tls without a host", Config{Address: "127.0.0.1", Port: 3478, Realm: "r", TCP: true, TLS: true, TLSPort: 443}, false},
		{"tls without a port", Config{Address: "127.0.0.1", Port: 3478, Realm: "r", TCP: true, TLS: true, Host: "t.example"}, false},
		{"tls without tcp", Config{Address: "127.0.0.1", Port: 3478, Realm: "r", TLS: true, Host: "t.example", TLSPort: 443}, false},
		{"proxy protocol without tcp", Config{Address: "127.0.0.1", Port: 3478, Realm: "r", ProxyProtocol: true,
			ProxySources: []string{"127.0.0.1"}}, false},
		{"proxy protocol without sources", Config{Address: "127.0.0.1", Port: 3478, Realm: "r", TCP: true, ProxyProtocol: true}, false},
		{"bad proxy source", Config{Address: "127.0.0.1", Port: 3478, Realm: "r", TCP: true, ProxyProtocol: true,
			ProxySources: []string{"nginx"}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.cfg.Validate(); (err == nil) != tc.ok {
				t.Fatalf("Validate() = %v, want ok %v", err, tc.ok)
			}
		})
	}
}

// TestAllocationQuota checks that one connection's credentials hold at
// most maxAllocations relays at once.
func TestAllocationQuota(t *testing.T) {
	s := startTest(t)
	user, pass, err := s.Credentials("CONN2")
	if err != nil {
		t.Fatal(err)
	}
	for i := range maxAllocations {
		if _, _, err := allocate(t, s, user, pass); err != nil {
			t.Fatalf("allocation %d: %v", i+1, err)
		}
	}
	if _, _, err := allocate(t, s, user, pass); err == nil {
		t.Fatalf("allocation %d succeeded, want the quota to refuse it", maxAllocations+1)
	}
	if st := s.Stats(); st.UDPAllocations != maxAllocations || st.TCPAllocations != 0 {
		t.Fatalf("stats %+v, want %d UDP allocations", st, maxAllocations)
	}
	other, otherPass, err := s.Credentials("CONN3")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := allocate(t, s, other, otherPass); err != nil {
		t.Fatalf("another connection's allocation: %v", err)
	}
}
