package sfubench

import (
	"testing"
	"time"
)

// TestFloorLoops checks that the floors measure something plausible on
// the namespace path.
func TestFloorLoops(t *testing.T) {
	f, err := measureFloor(clientAddress, sfuAddress, 1000, 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if f.Packets < 100 || f.PerPacket() <= 0 || f.PerPacket() > time.Millisecond {
		t.Errorf("floor: %d packets at %v each", f.Packets, f.PerPacket())
	}
	d, err := measureDelayFloor(clientAddress, sfuAddress, 1000, 1000, 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if n := d.Count(); n < 150 || n > 300 { // a starved pacer may stop early
		t.Errorf("delay floor received %d packets, want up to 300", n)
	}
	// With kernel receive timestamps, loopback delivery inside the send
	// can be under the histogram's first microsecond: 0 is fine.
	if p50, p99 := d.Quantile(0.5), d.Quantile(0.99); p50 < 0 || p50 > p99 || p99 > time.Second {
		t.Errorf("delay floor p50 %v p99 %v", p50, p99)
	}
	fan, err := measureFanoutFloor(clientAddress, sfuAddress, 1000, 8, 500, 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	// 500 packets a second to 8 sockets for 0.3 s.
	if fan.Packets < 600 || fan.Packets > 1300 || fan.PerPacket() <= 0 || fan.PerPacket() > time.Millisecond {
		t.Errorf("fan-out floor: %d packets at %v each", fan.Packets, fan.PerPacket())
	}
}
