package hostmux

import (
	"bytes"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

var (
	lo4 = netip.MustParseAddr("127.0.0.1")
	lo6 = netip.MustParseAddr("::1")
)

// fixed lists the given addresses as the host's.
func fixed(addrs ...netip.Addr) func() ([]netip.Addr, error) {
	return func() ([]netip.Addr, error) { return addrs, nil }
}

// syncBuffer is a log sink safe for the rescan goroutine.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) count(s string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Count(b.buf.String(), s)
}

func listenAddrs(m *Mux) []netip.Addr {
	var out []netip.Addr
	for _, a := range m.GetListenAddresses() {
		out = append(out, a.(*net.UDPAddr).AddrPort().Addr().Unmap())
	}
	return out
}

// TestNewChoosesAddresses: which of the host's addresses get a socket, by
// family, loopback, link-local and Keep.
func TestNewChoosesAddresses(t *testing.T) {
	linkLocal := netip.MustParseAddr("fe80::1")
	for _, tc := range []struct {
		name string
		cfg  Config
		want []netip.Addr
	}{
		{"both families", Config{IPv4: true, IPv6: true, Loopback: true}, []netip.Addr{lo4, lo6}},
		{"ipv4 only", Config{IPv4: true, Loopback: true}, []netip.Addr{lo4}},
		{"ipv6 only", Config{IPv6: true, Loopback: true}, []netip.Addr{lo6}},
		{"keep", Config{IPv4: true, IPv6: true, Loopback: true, Keep: func(a netip.Addr) bool { return a.Is6() }},
			[]netip.Addr{lo6}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Addresses = fixed(lo4, linkLocal, netip.MustParseAddr("ff02::1"), netip.IPv6Unspecified(),
				netip.MustParseAddr("::192.0.2.1"), netip.MustParseAddr("fec0::1"), lo6)
			m, err := New(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			if got := listenAddrs(m); !slices.Equal(got, tc.want) {
				t.Fatalf("listening on %v, want %v", got, tc.want)
			}
			if w := m.Waiting(); len(w) != 0 {
				t.Fatalf("waiting for %v", w)
			}
		})
	}
}

// TestNewFails: no family, an address whose port is taken, or no address
// listing is an error at start.
func TestNewFails(t *testing.T) {
	taken, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	for _, tc := range []struct {
		name, want string
		cfg        Config
	}{
		{"no family", "no address family", Config{Addresses: fixed(lo4)}},
		{"port taken", "127.0.0.1 port", Config{IPv4: true, Loopback: true, Addresses: fixed(lo4),
			Port: uint16(taken.LocalAddr().(*net.UDPAddr).Port)}},
		{"listing fails", "list local addresses", Config{IPv4: true,
			Addresses: func() ([]netip.Addr, error) { return nil, syscall.ENOMEM }}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := New(tc.cfg)
			if err == nil {
				m.Close()
				t.Fatal("New succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q, want one mentioning %q", err, tc.want)
			}
		})
	}
}

// TestStartsWithoutAddresses: with nothing usable yet (only link-local
// addresses, as at boot) New succeeds, says so once, and uses the first
// address that comes.
func TestStartsWithoutAddresses(t *testing.T) {
	var later atomic.Bool
	logs := &syncBuffer{}
	m, err := New(Config{IPv4: true, IPv6: true, Rescan: 10 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(logs, nil)), Loopback: true,
		Addresses: func() ([]netip.Addr, error) {
			if later.Load() {
				return []netip.Addr{netip.MustParseAddr("fe80::1"), lo6}, nil
			}
			return []netip.Addr{netip.MustParseAddr("fe80::1")}, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if got := m.GetListenAddresses(); len(got) != 0 {
		t.Fatalf("listening on %v", got)
	}
	if n := logs.count("no local address usable"); n != 1 {
		t.Fatalf("%d reports of no address, want 1", n)
	}
	later.Store(true)
	waitUntil(t, "::1 bound", func() bool { return slices.Equal(listenAddrs(m), []netip.Addr{lo6}) })
}

// TestTentativeAddressPickedUp: an address the kernel refuses to bind
// (EADDRNOTAVAIL, as while IPv6 duplicate address detection runs) does
// not stop New; it is reported once, bound by a later scan and then
// listed, and Close stops the scans.
func TestTentativeAddressPickedUp(t *testing.T) {
	var settled atomic.Bool
	logs := &syncBuffer{}
	cfg := Config{IPv4: true, IPv6: true, Loopback: true, Addresses: fixed(lo4, lo6),
		Rescan: 10 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(logs, nil))}
	cfg.listen = func(network string, laddr *net.UDPAddr) (*net.UDPConn, error) {
		if network == "udp6" && !settled.Load() {
			return nil, &net.OpError{Op: "listen", Net: network, Addr: laddr, Err: syscall.EADDRNOTAVAIL}
		}
		return net.ListenUDP(network, laddr)
	}
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if got := listenAddrs(m); !slices.Equal(got, []netip.Addr{lo4}) {
		t.Fatalf("listening on %v, want only %v while %v is tentative", got, lo4, lo6)
	}
	if w := m.Waiting(); !slices.Equal(w, []netip.Addr{lo6}) {
		t.Fatalf("waiting for %v, want %v", w, lo6)
	}
	time.Sleep(100 * time.Millisecond) // several failed rescans
	if n := logs.count("not usable for media yet"); n != 1 {
		t.Fatalf("%d reports of the tentative address, want 1:\n%s", n, logs.buf.String())
	}
	settled.Store(true)
	waitUntil(t, "::1 bound", func() bool { return slices.Equal(listenAddrs(m), []netip.Addr{lo4, lo6}) })
	if w := m.Waiting(); len(w) != 0 {
		t.Fatalf("still waiting for %v", w)
	}
	if n := logs.count("now used for media"); n != 1 {
		t.Fatalf("%d reports of the settled address, want 1", n)
	}
	conn := m.Socket(lo6)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-m.done:
	default:
		t.Fatal("rescan goroutine still running after Close")
	}
	if _, err := conn.WriteToUDPAddrPort([]byte{1}, netip.AddrPortFrom(lo6, 9)); err == nil {
		t.Fatal("socket still open after Close")
	}
	if err := m.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// TestAddressLeavesAndComes: a bound address that leaves its interface is
// no longer listed (no candidate names it) and is listed again when it
// comes back, on the same socket.
func TestAddressLeavesAndComes(t *testing.T) {
	var with6 atomic.Bool
	with6.Store(true)
	cfg := Config{IPv4: true, IPv6: true, Loopback: true, Rescan: 10 * time.Millisecond,
		Addresses: func() ([]netip.Addr, error) {
			if with6.Load() {
				return []netip.Addr{lo4, lo6}, nil
			}
			return []netip.Addr{lo4}, nil
		}}
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	before := m.Socket(lo6)
	with6.Store(false)
	waitUntil(t, "::1 unlisted", func() bool { return slices.Equal(listenAddrs(m), []netip.Addr{lo4}) })
	with6.Store(true)
	waitUntil(t, "::1 listed again", func() bool { return slices.Equal(listenAddrs(m), []netip.Addr{lo4, lo6}) })
	if m.Socket(lo6) != before {
		t.Fatal("::1 was bound again on a new socket")
	}
}

// TestPinnedFollowsInterfaces: a pinned address is the only one of its
// family while it is on an interface; before it comes and after it goes,
// every address of its family is used. The other family is untouched.
func TestPinnedFollowsInterfaces(t *testing.T) {
	pin := netip.MustParseAddr("127.0.0.2") // bindable: lo holds 127.0.0.0/8
	var assigned atomic.Bool
	m, err := New(Config{IPv4: true, IPv6: true, Loopback: true, Rescan: 10 * time.Millisecond,
		Pinned: []netip.Addr{pin},
		Addresses: func() ([]netip.Addr, error) {
			if assigned.Load() {
				return []netip.Addr{lo4, lo6, pin}, nil
			}
			return []netip.Addr{lo4, lo6}, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if got := listenAddrs(m); !slices.Equal(got, []netip.Addr{lo4, lo6}) {
		t.Fatalf("before the pinned address comes: listening on %v, want %v", got, []netip.Addr{lo4, lo6})
	}
	assigned.Store(true)
	waitUntil(t, "only the pinned IPv4 address", func() bool {
		return slices.Equal(listenAddrs(m), []netip.Addr{lo6, pin})
	})
	if c := m.Socket(pin); c == nil || c.LocalAddr().(*net.UDPAddr).AddrPort().Addr() != pin {
		t.Fatalf("Socket(%v) = %v", pin, c)
	}
	assigned.Store(false)
	waitUntil(t, "every IPv4 address again", func() bool {
		return slices.Equal(listenAddrs(m), []netip.Addr{lo4, lo6})
	})
}

// TestSocket: a candidate's socket is the one bound to its address, or
// for an announced address (1:1 NAT) the first of its family.
func TestSocket(t *testing.T) {
	m, err := New(Config{IPv4: true, IPv6: true, Loopback: true, Addresses: fixed(lo4, lo6)})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for _, tc := range []struct {
		local netip.Addr
		want  netip.Addr
	}{
		{lo4, lo4},
		{lo6, lo6},
		{netip.MustParseAddr("::ffff:127.0.0.1"), lo4},
		{netip.MustParseAddr("203.0.113.7"), lo4},
		{netip.MustParseAddr("2001:db8::7"), lo6},
	} {
		c := m.Socket(tc.local)
		if c == nil || c.LocalAddr().(*net.UDPAddr).AddrPort().Addr() != tc.want {
			t.Errorf("Socket(%v) = %v, want the socket on %v", tc.local, c, tc.want)
		}
	}
	only4, err := New(Config{IPv4: true, Loopback: true, Addresses: fixed(lo4)})
	if err != nil {
		t.Fatal(err)
	}
	defer only4.Close()
	if c := only4.Socket(netip.MustParseAddr("2001:db8::7")); c != nil {
		t.Fatalf("IPv6 candidate got %v on an IPv4-only mux", c.LocalAddr())
	}
}

// TestGetConn: connections are handed out on the socket of the asked
// address only.
func TestGetConn(t *testing.T) {
	m, err := New(Config{IPv4: true, IPv6: true, Loopback: true, Addresses: fixed(lo4, lo6)})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for _, a := range m.GetListenAddresses() {
		c, err := m.GetConn("ufrag", a)
		if err != nil {
			t.Fatalf("GetConn(%v): %v", a, err)
		}
		if c.LocalAddr().String() != a.String() {
			t.Fatalf("GetConn(%v) gave a connection on %v", a, c.LocalAddr())
		}
	}
	m.RemoveConnByUfrag("ufrag")
	if _, err := m.GetConn("ufrag", &net.UDPAddr{IP: net.ParseIP("192.0.2.1"), Port: 9}); err == nil {
		t.Fatal("GetConn on an address without a socket succeeded")
	}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
