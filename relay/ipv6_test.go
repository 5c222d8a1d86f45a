package relay

import (
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/pion/turn/v5"
)

// TestRelayOverIPv6 runs the server on both families (127.0.0.1 and ::1):
// the URLs name both addresses, a client allocates over IPv6 and its
// relay reaches the SFU's IPv6 address, and nothing else.
func TestRelayOverIPv6(t *testing.T) {
	probe, err := net.ListenPacket("udp6", "[::1]:0")
	if err != nil {
		t.Fatalf("this host has no IPv6 loopback: %v", err)
	}
	port := probe.LocalAddr().(*net.UDPAddr).Port
	_ = probe.Close()
	s, err := New(Config{Address: "127.0.0.1", Address6: "::1", Port: uint16(port), Realm: "kiroku"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p := strconv.Itoa(port)
	if got := s.URLs(); len(got) != 2 || got[0] != "turn:127.0.0.1:"+p+"?transport=udp" || got[1] != "turn:[::1]:"+p+"?transport=udp" {
		t.Fatalf("URLs = %v", got)
	}
	user, pass, err := s.Credentials("CONN6")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.ListenPacket("udp6", "[::1]:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c, err := turn.NewClient(&turn.ClientConfig{TURNServerAddr: "[::1]:" + p, Username: user, Password: pass,
		Realm: "kiroku", Conn: conn, RTO: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Listen(); err != nil {
		t.Fatal(err)
	}
	relayed, err := c.Allocate()
	if err != nil {
		t.Fatalf("allocate over IPv6: %v", err)
	}
	defer relayed.Close()
	sfu, err := net.ListenPacket("udp6", "[::1]:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sfu.Close()
	if _, err := relayed.WriteTo([]byte("media"), sfu.LocalAddr()); err != nil {
		t.Fatalf("relay to the SFU's IPv6 address: %v", err)
	}
	_ = sfu.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 64)
	n, _, err := sfu.ReadFrom(buf)
	if err != nil || string(buf[:n]) != "media" {
		t.Fatalf("the SFU got %q (%v), want the relayed datagram", buf[:n], err)
	}
	if _, err := relayed.WriteTo([]byte("abuse"), &net.UDPAddr{IP: net.ParseIP("::2"), Port: 9}); err == nil {
		t.Fatal("relayed to an IPv6 address that is not the SFU's")
	}
}
