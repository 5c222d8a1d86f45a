package memudp

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"
)

// listen binds a UDP socket on 127.0.0.1 with a kernel-chosen port.
func listen(t testing.TB) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func attach(t testing.TB, sw *Switch) *Conn {
	t.Helper()
	c, err := sw.Attach(listen(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// attachFunc attaches a fresh socket on 127.0.0.1 to sw in one of the
// reading modes.
type attachFunc func(t testing.TB, sw *Switch) *Conn

// attachBatched is attach with AttachBatched.
func attachBatched(coalesce time.Duration) attachFunc {
	return func(t testing.TB, sw *Switch) *Conn {
		t.Helper()
		c, err := sw.AttachBatched(listen(t), coalesce)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
}

// readingModes are the ways a Conn reads its socket: through Go's
// poller, in batches, and in batches coalesced while traffic is heavy.
var readingModes = []struct {
	name   string
	attach attachFunc
}{
	{"poller", attach},
	{"batched", attachBatched(0)},
	{"coalesced", attachBatched(time.Millisecond)},
}

// eachMode runs test once per reading mode.
func eachMode(t *testing.T, test func(t *testing.T, attach attachFunc)) {
	for _, m := range readingModes {
		t.Run(m.name, func(t *testing.T) { test(t, m.attach) })
	}
}

func addrOf(c interface{ LocalAddr() net.Addr }) netip.AddrPort {
	return c.LocalAddr().(*net.UDPAddr).AddrPort()
}

// read reads one datagram within a second.
func read(t *testing.T, c *Conn) ([]byte, netip.AddrPort) {
	t.Helper()
	type result struct {
		b    []byte
		from netip.AddrPort
		err  error
	}
	done := make(chan result, 1)
	go func() {
		b := make([]byte, 3000)
		n, from, err := c.ReadFromAddrPort(b)
		done <- result{b[:n], from, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatalf("read: %v", r.err)
		}
		return r.b, r.from
	case <-time.After(time.Second):
		t.Fatal("read: nothing within a second")
		return nil, netip.AddrPort{}
	}
}

// TestHandover sends between two Conns of one Switch: the datagram stays
// in memory (the receiver's socket sees nothing), comes from the sender's
// address, and large and small datagrams arrive whole.
func TestHandover(t *testing.T) {
	eachMode(t, func(t *testing.T, attach attachFunc) {
		for _, size := range []int{0, 1, 1200, bufferBytes, bufferBytes + 1, 2900} {
			sw := NewSwitch()
			a, b := attach(t, sw), attach(t, sw)
			payload := bytes.Repeat([]byte{byte(size)}, size)
			if n, err := a.WriteToAddrPort(payload, addrOf(b)); err != nil || n != size {
				t.Fatalf("size %d: write = %d, %v", size, n, err)
			}
			got, from := read(t, b)
			if !bytes.Equal(got, payload) || from != addrOf(a) {
				t.Fatalf("size %d: got %d bytes from %s, want %d from %s", size, len(got), from, size, addrOf(a))
			}
			if st := sw.Stats(); st.Handed != 1 || st.Dropped != 0 {
				t.Fatalf("size %d: stats %+v, want one handed over", size, st)
			}
		}
	})
}

// TestWakesBlockedReader hands a datagram to a Conn whose reader is
// already blocked in the socket, then sends one through the network:
// both arrive, in order.
func TestWakesBlockedReader(t *testing.T) {
	eachMode(t, func(t *testing.T, attach attachFunc) {
		sw := NewSwitch()
		a, b := attach(t, sw), attach(t, sw)
		outside := listen(t)
		defer outside.Close()
		got := make(chan string, 2)
		go func() {
			buf := make([]byte, 100)
			for range 2 {
				n, _, err := b.ReadFrom(buf)
				if err != nil {
					got <- err.Error()
					return
				}
				got <- string(buf[:n])
			}
		}()
		time.Sleep(50 * time.Millisecond) // the reader is in the socket's read
		if _, err := a.WriteTo([]byte("memory"), b.LocalAddr()); err != nil {
			t.Fatal(err)
		}
		if s := receive(t, got); s != "memory" {
			t.Fatalf("first read %q, want the datagram handed over", s)
		}
		if _, err := outside.WriteTo([]byte("network"), b.LocalAddr()); err != nil {
			t.Fatal(err)
		}
		if s := receive(t, got); s != "network" {
			t.Fatalf("second read %q, want the network's datagram", s)
		}
	})
}

func receive(t *testing.T, ch chan string) string {
	t.Helper()
	select {
	case s := <-ch:
		return s
	case <-time.After(time.Second):
		t.Fatal("nothing read within a second")
		return ""
	}
}

// TestOthersUseTheNetwork: a datagram to an address no Conn of the
// Switch holds goes through the socket, from the Conn's address; a Conn
// of no Switch is a plain socket.
func TestOthersUseTheNetwork(t *testing.T) {
	eachMode(t, func(t *testing.T, attach attachFunc) {
		for _, sw := range []*Switch{NewSwitch(), nil} {
			a := attach(t, sw)
			outside := listen(t)
			if _, err := a.WriteToUDPAddrPort([]byte("out"), addrOf(outside)); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 10)
			_ = outside.SetReadDeadline(time.Now().Add(time.Second))
			n, from, err := outside.ReadFromUDPAddrPort(buf)
			if err != nil || string(buf[:n]) != "out" || from != addrOf(a) {
				t.Fatalf("switch %v: outside read %q from %s, %v", sw != nil, buf[:n], from, err)
			}
			if _, err := outside.WriteToUDPAddrPort([]byte("in"), addrOf(a)); err != nil {
				t.Fatal(err)
			}
			if got, from := read(t, a); string(got) != "in" || from != addrOf(outside) {
				t.Fatalf("switch %v: read %q from %s", sw != nil, got, from)
			}
			outside.Close()
			if st := sw.Stats(); st.Handed != 0 {
				t.Fatalf("stats %+v, want nothing handed over", st)
			}
		}
	})
}

// TestReadDeadline: the caller's deadline holds across wake-ups, and a
// datagram handed over before it is read.
func TestReadDeadline(t *testing.T) {
	eachMode(t, func(t *testing.T, attach attachFunc) {
		sw := NewSwitch()
		a, b := attach(t, sw), attach(t, sw)
		if err := b.SetReadDeadline(time.Now().Add(150 * time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		go func() {
			time.Sleep(30 * time.Millisecond)
			_, _ = a.WriteToAddrPort([]byte("x"), addrOf(b))
		}()
		buf := make([]byte, 10)
		if n, _, err := b.ReadFromAddrPort(buf); err != nil || string(buf[:n]) != "x" {
			t.Fatalf("read = %q, %v; want the datagram handed over", buf[:n], err)
		}
		start := time.Now()
		_, _, err := b.ReadFromAddrPort(buf)
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("read after the wake-up: %v, want the deadline", err)
		}
		if waited := time.Since(start); waited > time.Second {
			t.Fatalf("the deadline came after %v", waited)
		}
		if err := b.SetReadDeadline(time.Time{}); err != nil {
			t.Fatal(err)
		}
		_, _ = a.WriteToAddrPort([]byte("y"), addrOf(b))
		if got, _ := read(t, b); string(got) != "y" {
			t.Fatalf("read %q after clearing the deadline", got)
		}
	})
}

// TestFullInboxDrops: beyond inboxDatagrams waiting, datagrams are
// dropped and counted, as a full socket buffer drops them.
func TestFullInboxDrops(t *testing.T) {
	eachMode(t, func(t *testing.T, attach attachFunc) {
		sw := NewSwitch()
		a, b := attach(t, sw), attach(t, sw)
		for i := range inboxDatagrams + 10 {
			if _, err := a.WriteToAddrPort([]byte{byte(i)}, addrOf(b)); err != nil {
				t.Fatal(err)
			}
		}
		if st := sw.Stats(); st.Handed != inboxDatagrams || st.Dropped != 10 {
			t.Fatalf("stats %+v, want %d handed over and 10 dropped", st, inboxDatagrams)
		}
		if got, _ := read(t, b); got[0] != 0 {
			t.Fatalf("first datagram read is %d, want the oldest", got[0])
		}
	})
}

// TestAttachRefuses an unspecified address and a second Conn at one
// address.
func TestAttachRefuses(t *testing.T) {
	sw := NewSwitch()
	any4, err := net.ListenUDP("udp4", &net.UDPAddr{})
	if err != nil {
		t.Fatal(err)
	}
	defer any4.Close()
	if _, err := sw.Attach(any4); err == nil {
		t.Fatal("attached a socket on 0.0.0.0")
	}
	a := attach(t, sw)
	if _, err := sw.Attach(a.UDP()); err == nil {
		t.Fatal("attached the same address twice")
	}
}

// TestCloseDetaches: after Close, the address is no longer served in
// memory (writes to it take the network), and a blocked reader returns.
func TestCloseDetaches(t *testing.T) {
	eachMode(t, func(t *testing.T, attach attachFunc) {
		sw := NewSwitch()
		a, b := attach(t, sw), attach(t, sw)
		errs := make(chan error, 1)
		go func() {
			_, _, err := b.ReadFromAddrPort(make([]byte, 10))
			errs <- err
		}()
		time.Sleep(30 * time.Millisecond)
		_ = b.Close()
		select {
		case err := <-errs:
			if err == nil {
				t.Fatal("read on a closed Conn returned no error")
			}
		case <-time.After(time.Second):
			t.Fatal("the blocked reader did not return after Close")
		}
		if sw.lookup(addrOf(b)) != nil {
			t.Fatal("a closed Conn is still attached")
		}
		if _, err := a.WriteToAddrPort([]byte("late"), addrOf(b)); err != nil {
			t.Fatalf("write to a closed Conn's address: %v (UDP drops it silently)", err)
		}
		if st := sw.Stats(); st.Handed != 0 {
			t.Fatalf("stats %+v, want nothing handed over", st)
		}
	})
}

// TestConcurrentWriters: several goroutines hand datagrams over while
// the network sends some too; the reader gets every one, each writer's
// in order.
func TestConcurrentWriters(t *testing.T) {
	eachMode(t, func(t *testing.T, attach attachFunc) {
		sw := NewSwitch()
		b := attach(t, sw)
		const writers, each = 4, 200
		var wg sync.WaitGroup
		for w := range writers {
			a := attach(t, sw)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					_, _ = a.WriteToAddrPort([]byte{byte(w), byte(i)}, addrOf(b))
					if i%50 == 0 {
						time.Sleep(time.Millisecond)
					}
				}
			}()
		}
		next := make(map[netip.AddrPort]int)
		buf := make([]byte, 10)
		for range writers * each {
			_ = b.SetReadDeadline(time.Now().Add(2 * time.Second))
			n, from, err := b.ReadFromAddrPort(buf)
			if err != nil || n != 2 {
				t.Fatalf("read %d bytes: %v (after %d)", n, err, len(next))
			}
			if int(buf[1]) != next[from]%256 {
				t.Fatalf("from %s: datagram %d, want %d", from, buf[1], next[from])
			}
			next[from]++
		}
		wg.Wait()
		if st := sw.Stats(); st.Handed != writers*each || st.Dropped != 0 {
			t.Fatalf("stats %+v", st)
		}
	})
}
