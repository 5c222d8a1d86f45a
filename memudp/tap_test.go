package memudp

import (
	"bytes"
	"net/netip"
	"sync"
	"testing"
)

// TestTapConsumes shows a tap seeing every datagram, from the network
// and in memory, and the reader getting only those it left.
func TestTapConsumes(t *testing.T) {
	eachMode(t, func(t *testing.T, attach attachFunc) {
		sw := NewSwitch()
		a, b := attach(t, sw), attach(t, sw)
		other := listen(t)
		defer other.Close()
		var mu sync.Mutex
		var seen []string
		b.SetTap(func(p []byte, from netip.AddrPort) bool {
			mu.Lock()
			defer mu.Unlock()
			seen = append(seen, string(p))
			return bytes.HasPrefix(p, []byte("take"))
		})
		// In memory, then through the kernel: each keeps its order.
		send := []func(string) error{
			func(m string) error { _, err := a.WriteToAddrPort([]byte(m), addrOf(b)); return err },
			func(m string) error { _, err := other.WriteToUDPAddrPort([]byte(m), addrOf(b)); return err },
		}
		for i, write := range send {
			for _, m := range []string{"take", "leave"} {
				if err := write(m); err != nil {
					t.Fatal(err)
				}
			}
			if got, _ := read(t, b); string(got) != "leave" {
				t.Fatalf("way %d: reader got %q, want \"leave\"", i, got)
			}
		}
		mu.Lock()
		n := len(seen)
		mu.Unlock()
		if n != 4 {
			t.Fatalf("tap saw %d datagrams, want 4: %q", n, seen)
		}
		b.SetTap(nil)
		if _, err := a.WriteToAddrPort([]byte("take again"), addrOf(b)); err != nil {
			t.Fatal(err)
		}
		if got, _ := read(t, b); string(got) != "take again" {
			t.Fatalf("without a tap the reader got %q", got)
		}
	})
}
