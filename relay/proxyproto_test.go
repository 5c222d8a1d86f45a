package relay

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/turn/v5"
)

func proxyV2(cmd, family byte, addrs []byte) []byte {
	b := append([]byte(nil), proxyV2Signature...)
	b = append(b, 0x20|cmd, family, 0, 0)
	binary.BigEndian.PutUint16(b[14:16], uint16(len(addrs)))
	return append(b, addrs...)
}

func v2TCP4() []byte {
	a := []byte{203, 0, 113, 7, 198, 18, 0, 1, 0, 0, 0, 0}
	binary.BigEndian.PutUint16(a[8:], 51234)
	binary.BigEndian.PutUint16(a[10:], 443)
	return a
}

func v2TCP6() []byte {
	a := make([]byte, 36)
	copy(a, net.ParseIP("2001:db8::7"))
	copy(a[16:], net.ParseIP("2001:db8::1"))
	binary.BigEndian.PutUint16(a[32:], 40000)
	binary.BigEndian.PutUint16(a[34:], 443)
	return a
}

// TestReadProxyHeader reads headers of both versions as nginx sends them
// and refuses broken ones; the bytes after a header are left unread.
func TestReadProxyHeader(t *testing.T) {
	for _, tc := range []struct {
		name   string
		in     []byte
		source string // "" for none
		err    bool
		noHdr  bool
	}{
		{"v1 tcp4", []byte("PROXY TCP4 203.0.113.7 198.18.0.1 51234 443\r\n"), "203.0.113.7:51234", false, false},
		{"v1 tcp6", []byte("PROXY TCP6 2001:db8::7 2001:db8::1 40000 443\r\n"), "[2001:db8::7]:40000", false, false},
		{"v1 unknown (nginx's unix socket hop)", []byte("PROXY UNKNOWN\r\n"), "", false, false},
		{"v1 unknown with addresses", []byte("PROXY UNKNOWN ffff:f...f ffff:f...f 65535 65535\r\n"), "", false, false},
		{"v1 family mismatch", []byte("PROXY TCP4 2001:db8::7 198.18.0.1 1 443\r\n"), "", true, false},
		{"v1 after nginx's unix socket hop", []byte("PROXY TCP4 198.19.0.2 unix: 51234 0\r\n"), "198.19.0.2:51234", false, false},
		{"v1 bad port", []byte("PROXY TCP4 203.0.113.7 198.18.0.1 65536 443\r\n"), "", true, false},
		{"v1 leading zero port", []byte("PROXY TCP4 203.0.113.7 198.18.0.1 0443 443\r\n"), "", true, false},
		{"v1 no CRLF", []byte("PROXY TCP4 203.0.113.7 198.18.0.1 1 443\n"), "", true, false},
		{"v1 too long", append([]byte("PROXY TCP4 "), bytes.Repeat([]byte("1"), 200)...), "", true, false},
		{"v2 tcp4", proxyV2(1, 0x11, v2TCP4()), "203.0.113.7:51234", false, false},
		{"v2 tcp6", proxyV2(1, 0x21, v2TCP6()), "[2001:db8::7]:40000", false, false},
		{"v2 tcp4 with a TLV", proxyV2(1, 0x11, append(v2TCP4(), 0x03, 0, 4, 1, 2, 3, 4)), "203.0.113.7:51234", false, false},
		{"v2 local", proxyV2(0, 0x00, nil), "", false, false},
		{"v2 unspec", proxyV2(1, 0x00, nil), "", false, false},
		{"v2 short tcp4", proxyV2(1, 0x11, []byte{1, 2, 3}), "", true, false},
		{"v2 bad command", proxyV2(7, 0x11, v2TCP4()), "", true, false},
		{"v2 huge", proxyV2(1, 0x11, make([]byte, 600)), "", true, false},
		{"stun, no header", []byte{0x00, 0x03, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42}, "", false, true},
		{"P but not PROXY", []byte("POST / HTTP/1.1\r\n"), "", false, true},
		{"CR but not v2", []byte("\r\nhello\r\n\r\n\r\n"), "", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := bufio.NewReader(io.MultiReader(bytes.NewReader(tc.in), strings.NewReader("REST")))
			h, err := readProxyHeader(r)
			switch {
			case tc.noHdr:
				if !errors.Is(err, errNoProxyHeader) {
					t.Fatalf("err %v, want no header", err)
				}
				if got, _ := r.Peek(len(tc.in)); !bytes.Equal(got, tc.in) {
					t.Fatal("bytes consumed from a stream without a header")
				}
				return
			case tc.err:
				if err == nil || errors.Is(err, errNoProxyHeader) {
					t.Fatalf("err %v, want a broken header", err)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			got := ""
			if h.source != nil {
				got = h.source.String()
			}
			if got != tc.source {
				t.Fatalf("source %q, want %q", got, tc.source)
			}
			if rest, _ := io.ReadAll(r); string(rest) != "REST" && !strings.HasPrefix(tc.name, "v2 tcp4 with") {
				t.Fatalf("after the header: %q", rest)
			}
		})
	}
}

// FuzzReadProxyHeader: no input panics or reads past its header's end.
func FuzzReadProxyHeader(f *testing.F) {
	f.Add([]byte("PROXY TCP4 203.0.113.7 198.18.0.1 51234 443\r\n"))
	f.Add([]byte("PROXY UNKNOWN\r\n"))
	f.Add(proxyV2(1, 0x11, v2TCP4()))
	f.Add(proxyV2(1, 0x21, v2TCP6()))
	f.Fuzz(func(t *testing.T, in []byte) {
		r := bufio.NewReader(bytes.NewReader(in))
		h, err := readProxyHeader(r)
		if err == nil && h.source != nil && h.source.IP == nil {
			t.Fatal("a source without an address")
		}
	})
}

// TestProxyListener accepts connections through the PROXY listener: a
// trusted proxy's header names the client, an untrusted one's is read
// and ignored (and counted), a connection without one keeps its address,
// and a trusted connection with a broken header is closed.
func TestProxyListener(t *testing.T) {
	inner, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, loop, _ := net.ParseCIDR("127.0.0.0/8")
	trusted := newProxyListener(inner, []*net.IPNet{loop}, slog.New(slog.DiscardHandler))
	defer trusted.Close()
	check := func(send, wantRemote string, wantRest bool) {
		t.Helper()
		c, err := net.Dial("tcp4", inner.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Write([]byte(send + "REST")); err != nil {
			t.Fatal(err)
		}
		a, err := trusted.Accept()
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		if got := a.RemoteAddr().String(); wantRemote != "" && got != wantRemote {
			t.Fatalf("remote %s, want %s", got, wantRemote)
		}
		buf := make([]byte, 4)
		_ = a.SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, err := io.ReadFull(a, buf); err != nil || string(buf) != "REST" {
			t.Fatalf("after the header: %q %v", buf, err)
		}
	}
	check("PROXY TCP4 203.0.113.7 198.18.0.1 51234 443\r\n", "203.0.113.7:51234", true)
	check(string(proxyV2(1, 0x11, v2TCP4())), "203.0.113.7:51234", true)
	check("PROXY UNKNOWN\r\n", "", true)
	check("", "", true)

	// A broken header from the trusted proxy closes the connection.
	c, err := net.Dial("tcp4", inner.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	_, _ = c.Write([]byte("PROXY TCP4 bogus\r\n"))
	_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatal("a broken header's connection stayed open")
	}
	_ = c.Close()
	if got := trusted.malformed.Load(); got != 1 {
		t.Fatalf("%d malformed headers counted, want 1", got)
	}

	// From an untrusted source the header is ignored.
	inner2, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, other, _ := net.ParseCIDR("192.0.2.0/24")
	untrusted := newProxyListener(inner2, []*net.IPNet{other}, slog.New(slog.DiscardHandler))
	defer untrusted.Close()
	c2, err := net.Dial("tcp4", inner2.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	_, _ = c2.Write([]byte("PROXY TCP4 203.0.113.7 198.18.0.1 51234 443\r\nREST"))
	a, err := untrusted.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if got := a.RemoteAddr().String(); got != c2.LocalAddr().String() {
		t.Fatalf("untrusted header changed the address to %s", got)
	}
	if untrusted.ignored.Load() != 1 {
		t.Fatalf("ignored headers %d, want 1", untrusted.ignored.Load())
	}
}

// TestTURNTCPBehindProxy allocates over TURN-TCP through a connection that
// starts with nginx's PROXY header, and checks the URLs of seed 000's 443
// layout: TURN-TCP and TURN-TLS on 443 in the URLs, TURN-TCP accepted on
// its own listen port.
func TestTURNTCPBehindProxy(t *testing.T) {
	udp, tcp := freePort(t, "udp4"), freePort(t, "tcp4")
	s, err := New(Config{Address: "127.0.0.1", Port: udp, TCP: true, TCPListenPort: tcp, TCPPort: 443, TLS: true,
		Host: "sora-turn.test", TLSPort: 443, Realm: "kiroku", ProxyProtocol: true, ProxySources: []string{"127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	want := []string{"turn:sora-turn.test:" + itoaPort(udp) + "?transport=udp", "turn:sora-turn.test:443?transport=tcp",
		"turns:sora-turn.test:443?transport=tcp"}
	if got := s.URLs(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("URLs %v, want %v", got, want)
	}
	user, pass, err := s.Credentials("CONN")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp4", net.JoinHostPort("127.0.0.1", itoaPort(tcp)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Write([]byte("PROXY TCP4 203.0.113.7 127.0.0.1 51234 443\r\n")); err != nil {
		t.Fatal(err)
	}
	c, err := turn.NewClient(&turn.ClientConfig{TURNServerAddr: conn.RemoteAddr().String(), Username: user, Password: pass,
		Realm: "kiroku", Conn: turn.NewSTUNConn(conn)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Listen(); err != nil {
		t.Fatal(err)
	}
	relayed, err := c.Allocate()
	if err != nil {
		t.Fatalf("allocate over TURN-TCP behind the proxy: %v", err)
	}
	_ = relayed.Close()
	if st := s.Stats(); st.TCPAllocations != 1 {
		t.Fatalf("stats %+v, want one TCP allocation", st)
	}
}

func freePort(t *testing.T, network string) uint16 {
	t.Helper()
	if network == "udp4" {
		c, err := net.ListenPacket(network, "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return uint16(c.LocalAddr().(*net.UDPAddr).Port)
	}
	l, err := net.Listen(network, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return uint16(l.Addr().(*net.TCPAddr).Port)
}

func itoaPort(p uint16) string { return strconv.Itoa(int(p)) }
