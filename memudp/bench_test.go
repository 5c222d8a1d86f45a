package memudp

import (
	"testing"
)

// benchmarkPingPong sends 1,200-byte datagrams from a to b, b's reader
// in its own goroutine, as a relay and the SFU exchange them; b acks
// every 64th, so the sender never overruns the receiver.
func benchmarkPingPong(b *testing.B, sw *Switch) {
	tx, rx := attach(b, sw), attach(b, sw)
	to, back := addrOf(rx), addrOf(tx)
	payload := make([]byte, 1200)
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		for i := 1; i <= b.N; i++ {
			if _, _, err := rx.ReadFromAddrPort(buf); err != nil {
				b.Error(err)
				return
			}
			if i%64 == 0 || i == b.N {
				_, _ = rx.WriteToAddrPort([]byte{1}, back)
			}
		}
	}()
	ack := make([]byte, 10)
	b.SetBytes(int64(len(payload)))
	b.ResetTimer()
	for i := 1; i <= b.N; i++ {
		if _, err := tx.WriteToAddrPort(payload, to); err != nil {
			b.Fatal(err)
		}
		if i%64 == 0 || i == b.N {
			if _, _, err := tx.ReadFromAddrPort(ack); err != nil {
				b.Fatal(err)
			}
		}
	}
	<-done
}

// BenchmarkHandover is a datagram handed over in memory; compare with
// BenchmarkLoopback, the same through the kernel's loopback.
func BenchmarkHandover(b *testing.B) { benchmarkPingPong(b, NewSwitch()) }

// BenchmarkLoopback is BenchmarkHandover's baseline: Conns of no Switch.
func BenchmarkLoopback(b *testing.B) { benchmarkPingPong(b, nil) }
