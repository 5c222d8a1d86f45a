package memudp

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"
)

// TestSocketDatagrams: through the socket (no Switch), datagrams of every
// size arrive whole from their sender, both ways; a short buffer gets the
// datagram's start, as a socket read does; an IPv6 destination from an
// IPv4 socket is an error.
func TestSocketDatagrams(t *testing.T) {
	c := attach(t, nil)
	peer := listen(t)
	defer peer.Close()
	for _, size := range []int{0, 1, 1200, 1500, 2900} {
		payload := bytes.Repeat([]byte{byte(size % 251)}, size)
		if _, err := peer.WriteToUDPAddrPort(payload, addrOf(c)); err != nil {
			t.Fatal(err)
		}
		got, from := read(t, c)
		if !bytes.Equal(got, payload) || from != addrOf(peer) {
			t.Fatalf("size %d: read %d bytes from %s", size, len(got), from)
		}
		if n, err := c.WriteToAddrPort(payload, addrOf(peer)); err != nil || n != size {
			t.Fatalf("size %d: write = %d, %v", size, n, err)
		}
		buf := make([]byte, 10000)
		_ = peer.SetReadDeadline(time.Now().Add(time.Second))
		n, back, err := peer.ReadFromUDPAddrPort(buf)
		if err != nil || !bytes.Equal(buf[:n], payload) || back != addrOf(c) {
			t.Fatalf("size %d: peer read %d bytes from %s: %v", size, n, back, err)
		}
	}
	if _, err := peer.WriteToUDPAddrPort([]byte("truncated"), addrOf(c)); err != nil {
		t.Fatal(err)
	}
	short := make([]byte, 4)
	_ = c.SetReadDeadline(time.Now().Add(time.Second))
	if n, _, err := c.ReadFromAddrPort(short); err != nil || string(short[:n]) != "trun" {
		t.Fatalf("short read %q, %v", short[:n], err)
	}
	if _, err := c.WriteToAddrPort([]byte("x"), netip.MustParseAddrPort("[2001:db8::1]:9")); err == nil {
		t.Fatal("an IPv4 socket wrote to an IPv6 address")
	}
}

// TestSocketIPv6 reads and writes through a socket on ::1.
func TestSocketIPv6(t *testing.T) {
	udp, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
	if err != nil {
		t.Fatalf("IPv6 loopback: %v", err)
	}
	c, err := NewSwitch().Attach(udp)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	peer, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	if _, err := peer.WriteToUDPAddrPort([]byte("ping"), addrOf(c)); err != nil {
		t.Fatal(err)
	}
	got, from := read(t, c)
	if string(got) != "ping" || from != addrOf(peer) {
		t.Fatalf("read %q from %s, want ping from %s", got, from, addrOf(peer))
	}
	if _, err := c.WriteToAddrPort([]byte("pong"), from); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 10)
	_ = peer.SetReadDeadline(time.Now().Add(time.Second))
	n, back, err := peer.ReadFromUDPAddrPort(buf)
	if err != nil || string(buf[:n]) != "pong" || back != addrOf(c) {
		t.Fatalf("peer read %q from %s: %v", buf[:n], back, err)
	}
}

// TestSocketErrorsAsNet: a passed deadline is a timeout (pion's UDP mux
// reads on after one) and a closed Conn is net.ErrClosed (it stops).
func TestSocketErrorsAsNet(t *testing.T) {
	c := attach(t, nil)
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	_, _, err := c.ReadFromAddrPort(make([]byte, 10))
	if !os.IsTimeout(err) || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past the deadline: %v, want a timeout", err)
	}
	_ = c.Close()
	if _, _, err := c.ReadFromAddrPort(make([]byte, 10)); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("read after Close: %v, want net.ErrClosed", err)
	}
	if _, err := c.WriteToAddrPort([]byte("x"), netip.MustParseAddrPort("127.0.0.1:9")); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("write after Close: %v, want net.ErrClosed", err)
	}
}
