package sfubench

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/kiroku-sfu/kiroku/loadgen"
)

// TestLoadgenThroughSFU runs the load generator's protocol client against
// the real program: one publisher and one subscriber exchange packets for
// 2 s, every packet arrives, and the delays are plausible. The subscriber
// joins first, so it gets the publisher by re-offer; pings come every
// 300 ms and a client that stops answering for 1 s is dropped, so the
// clients must answer them for the run to end cleanly.
func TestLoadgenThroughSFU(t *testing.T) {
	p := startTestSFU(t, "signaling_ping_interval = 300 ms\nsignaling_pong_timeout = 1 s\n")
	before := runtime.NumGoroutine()
	const rate = 100
	l := startLoad(t, loadConfig(p, "loadgen-test", 1, 1, rate))
	from := l.Snapshot()
	time.Sleep(2 * time.Second)
	w := l.Snapshot().Window(from)
	if err := l.Close(); err != nil {
		t.Errorf("close load: %v", err)
	}
	t.Log(w)
	waitGoroutines(t, before)
	if w.Sent < rate*3/2 || w.Sent > rate*5/2 {
		t.Errorf("sent %d packets in %v at %d/s", w.Sent, w.Duration, rate)
	}
	if w.Offered != w.Sent {
		t.Errorf("offered %d packets for %d sent to one subscriber", w.Offered, w.Sent)
	}
	// Packets in flight at the window's edges shift the count by up to
	// the rate times the delay (at most 200 ms here).
	if w.Delivery < 0.99 || float64(w.Received) < 0.97*float64(w.Sent) || w.Received > w.Sent+rate/5 {
		t.Errorf("received %d of %d sent (%.3f by sequence numbers), want every packet", w.Received, w.Sent, w.Delivery)
	}
	if w.Unstamped != 0 {
		t.Errorf("%d packets arrived without a stamp", w.Unstamped)
	}
	if w.P50 <= 0 || w.P50 > w.P99 || w.P99 > w.Max || w.Max > time.Second {
		t.Errorf("implausible delays: p50 %v p99 %v max %v", w.P50, w.P99, w.Max)
	}
	// The socket comes before the client's stack.
	if w.AppP50 < w.P50 || w.AppP99 < w.P99 {
		t.Errorf("delays after the client's stack (p50 %v p99 %v) below those at its socket (p50 %v p99 %v)",
			w.AppP50, w.AppP99, w.P50, w.P99)
	}
}

// TestLoadgenMixedThroughSFU runs the benchmark's other loads for a
// moment: publishers cycling through all five video codecs, and
// simulcast sendrecv publishers (three VP8 layers, every client on r2).
// Every subscriber (and every simulcast publisher) must get every other
// publisher (startLoad waits for that), and keep getting it: at least
// 99 % of what is offered arrives, nothing is lost by sequence numbers.
func TestLoadgenMixedThroughSFU(t *testing.T) {
	p := startTestSFU(t, "")
	for _, tc := range []struct {
		name string
		pubs int
		set  func(*loadgen.Config)
	}{
		{"mixed codecs", 5, func(c *loadgen.Config) { c.VideoCodecs = mixedCodecs }},
		{"simulcast sendrecv", 3, func(c *loadgen.Config) { c.Simulcast = true }},
		{"whip publishers", 3, func(c *loadgen.Config) { c.WHIP = true }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const rate, subs = 50, 2
			cfg := loadConfig(p, "loadgen-"+strings.ReplaceAll(tc.name, " ", "-"), tc.pubs, subs, rate)
			tc.set(&cfg)
			l := startLoad(t, cfg)
			time.Sleep(500 * time.Millisecond) // past the first layer moves
			from := l.Snapshot()
			time.Sleep(2 * time.Second)
			w := l.Snapshot().Window(from)
			if err := l.Close(); err != nil {
				t.Errorf("close load: %v", err)
			}
			t.Log(w)
			receivers := subs
			if cfg.Simulcast {
				receivers += tc.pubs - 1
			}
			if lo, hi := uint64(tc.pubs*rate*receivers*3/2), uint64(tc.pubs*rate*receivers*5/2); w.Offered < lo || w.Offered > hi {
				t.Errorf("offered %d packets in %v, want %d..%d", w.Offered, w.Duration, lo, hi)
			}
			if w.Delivery < 0.99 || float64(w.Received) < 0.97*float64(w.Offered) {
				t.Errorf("received %d of %d offered (%.3f by sequence numbers), want every packet", w.Received, w.Offered, w.Delivery)
			}
			if w.Unstamped != 0 {
				t.Errorf("%d packets arrived without a stamp", w.Unstamped)
			}
		})
	}
}

// waitGoroutines fails t unless the goroutine count falls back to at most
// want within a few seconds: the load's clients left nothing running.
func waitGoroutines(t *testing.T, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > want {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines left, want %d:\n%s", runtime.NumGoroutine(), want, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(50 * time.Millisecond)
	}
}
