package sfu

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

// hostCandidates gathers a PeerConnection's host candidates with the
// setting engine cfg gives, as "address port" strings.
func hostCandidates(t *testing.T, cfg Config) []netip.AddrPort {
	t.Helper()
	se, closer, _, err := newSettingEngine(&cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if closer != nil {
		t.Cleanup(func() { _ = closer.Close() })
	}
	pc, err := webrtc.NewAPI(webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio); err != nil {
		t.Fatal(err)
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	select {
	case <-gathered:
	case <-time.After(10 * time.Second):
		t.Fatal("gathering did not complete")
	}
	var out []netip.AddrPort
	for _, line := range strings.Split(pc.LocalDescription().SDP, "\n") {
		f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(line), "a=candidate:"))
		if !strings.HasPrefix(line, "a=candidate:") || len(f) < 8 || f[7] != "host" {
			continue
		}
		port, _ := strconv.Atoi(f[5])
		out = append(out, netip.AddrPortFrom(netip.MustParseAddr(f[4]), uint16(port)))
	}
	return out
}

// TestHostCandidatesBothFamilies: ipv4_address and ipv6_address each pin
// or announce their own family only; link-local addresses are never
// candidates; the shared port serves both families.
func TestHostCandidatesBothFamilies(t *testing.T) {
	lo4, lo6 := netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")
	nat4, nat6 := netip.MustParseAddr("203.0.113.7"), netip.MustParseAddr("2001:db8::7")
	for _, tc := range []struct {
		name       string
		v4, v6     string
		ipv6       bool
		rangePorts bool
		want       []netip.Addr // exactly these, when exact
		has, hasNo []netip.Addr
		exact      bool
	}{
		{name: "ipv4_address does not drop ipv6", v4: "127.0.0.1", ipv6: true, has: []netip.Addr{lo4, lo6}},
		{name: "both pinned", v4: "127.0.0.1", v6: "::1", ipv6: true, want: []netip.Addr{lo4, lo6}, exact: true},
		{name: "ipv4 behind nat", v4: "203.0.113.7", v6: "::1", ipv6: true, has: []netip.Addr{nat4, lo6}, hasNo: []netip.Addr{lo4}},
		{name: "ipv6 behind nat", v4: "127.0.0.1", v6: "2001:db8::7", ipv6: true, want: []netip.Addr{lo4, nat6}, exact: true},
		{name: "ipv6 off", v4: "127.0.0.1", ipv6: false, want: []netip.Addr{lo4}, exact: true},
		// pion's own per-connection gathering never offers ::1 (it is in
		// ::/96, the deprecated IPv4-compatible block).
		{name: "port range", v4: "127.0.0.1", v6: "::1", ipv6: true, rangePorts: true, want: []netip.Addr{lo4}, exact: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.ICEAddress, cfg.IPv6Address, cfg.IPv6, cfg.ICELoopback = tc.v4, tc.v6, tc.ipv6, true
			cfg.UDPPort = freeUDPPort(t)
			if tc.rangePorts {
				cfg.UDPPort = 0
			}
			got := hostCandidates(t, cfg)
			var addrs []netip.Addr
			for _, c := range got {
				addrs = append(addrs, c.Addr())
				if c.Addr().IsLinkLocalUnicast() {
					t.Errorf("link-local candidate %v", c)
				}
				if !tc.rangePorts && c.Port() != cfg.UDPPort {
					t.Errorf("candidate %v not on udp_port %d", c, cfg.UDPPort)
				}
				if tc.rangePorts && (c.Port() < cfg.UDPPortMin || c.Port() > cfg.UDPPortMax) {
					t.Errorf("candidate %v outside the port range", c)
				}
				if c.Addr().Is4() && tc.v4 != "" && c.Addr().String() != tc.v4 {
					t.Errorf("IPv4 candidate %v besides ipv4_address %s", c, tc.v4)
				}
			}
			slices.SortFunc(addrs, func(a, b netip.Addr) int { return a.Compare(b) })
			addrs = slices.Compact(addrs)
			if tc.exact && !slices.Equal(addrs, tc.want) {
				t.Fatalf("candidates on %v, want exactly %v", addrs, tc.want)
			}
			for _, a := range tc.has {
				if !slices.Contains(addrs, a) {
					t.Errorf("no candidate on %v among %v", a, addrs)
				}
			}
			for _, a := range tc.hasNo {
				if slices.Contains(addrs, a) {
					t.Errorf("candidate on %v among %v, which the announced address replaces", a, addrs)
				}
			}
		})
	}
}

// TestValidateAddresses covers ipv4_address and ipv6_address.
func TestValidateAddresses(t *testing.T) {
	for _, tc := range []struct {
		name, v4, v6, err string
		ipv6              bool
	}{
		{name: "defaults", ipv6: true},
		{name: "both", v4: "192.0.2.10", v6: "2001:db8::10", ipv6: true},
		{name: "ipv6 in ipv4_address", v4: "2001:db8::10", ipv6: true, err: "ipv4_address"},
		{name: "ipv4 in ipv6_address", v6: "192.0.2.10", ipv6: true, err: "ipv6_address"},
		{name: "mapped ipv4 in ipv6_address", v6: "::ffff:192.0.2.10", ipv6: true, err: "ipv6_address"},
		{name: "link-local ipv6_address", v6: "fe80::1", ipv6: true, err: "not link-local"},
		{name: "unspecified ipv6_address", v6: "::", ipv6: true, err: "ipv6_address"},
		{name: "garbage ipv6_address", v6: "example.com", ipv6: true, err: "ipv6_address"},
		{name: "ipv6_address without ipv6", v6: "2001:db8::10", ipv6: false, err: "ipv6 is false"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.ICEAddress, cfg.IPv6Address, cfg.IPv6 = tc.v4, tc.v6, tc.ipv6
			err := cfg.Validate()
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("Validate = %v, want an error mentioning %q", err, tc.err)
			}
		})
	}
}

// TestDefaultIPv6 keeps Sora's default: IPv6 on.
func TestDefaultIPv6(t *testing.T) {
	if !DefaultConfig().IPv6 {
		t.Fatal("ipv6 is off by default; Sora's default is on")
	}
}
