package sfubench

import (
	"cmp"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"
)

// The load: benchPublishers publishers of benchRate packets of
// benchPayload bytes per second (2 Mbit/s each, like a 720p camera), and a
// growing number of subscribers receiving all of them.
const (
	benchPublishers = 2
	benchRate       = 250
	benchPayload    = 1000
	warmup          = time.Second
	floorWindows    = 3
	window          = 3 * time.Second
	halfWindow      = 5 * time.Second
	// maxSubscribers bounds the search so a run ends in minutes; on a
	// quiet two-core machine the maximum lies between 128 and 256.
	maxSubscribers = 256
	// A load is over the maximum when subscribers lose or do not get
	// (stalled flows) more than 1 - minDelivery of the packets, when the SFU and the load generator
	// together use more than maxMachineShare of every CPU, or when the
	// median delay shows a standing queue (maxMedianDelay).
	minDelivery     = 0.99
	maxMachineShare = 0.9
	maxMedianDelay  = 50 * time.Millisecond
	// The goals (issue 3): CPU per forwarded packet at most goalFloorRatio
	// times the floor, and p99 added delay under goalAddedP99 at half the
	// maximum load. They are reported, never asserted.
	goalFloorRatio = 2.0
	goalAddedP99   = 2 * time.Millisecond
)

// sfuConfEnv holds extra sora.conf lines for the measured SFU (for A/B
// runs, e.g. "direct_srtp = false"); empty runs it on the benchmark's
// configuration alone.
const sfuConfEnv = "KIROKU_BENCH_SFU_CONF"

// BenchmarkForwarding measures, in one run: the floor (SRTP + UDP send per
// packet); the SFU's CPU per forwarded packet and the forwarding delay at
// a doubling number of subscribers until the maximum load; and the delay
// at half of that maximum. Each sub-benchmark op is one measured window.
func BenchmarkForwarding(b *testing.B) {
	p := startTestSFU(b, os.Getenv(sfuConfEnv))
	var floor floorResult
	b.Run("floor", func(b *testing.B) {
		for range b.N {
			// The median of floorWindows one-second windows: a single
			// window moved by ±10 % with the machine's state.
			var windows []floorResult
			for range floorWindows {
				f, err := measureFloor(clientAddress, sfuAddress, benchPayload, time.Second)
				if err != nil {
					b.Fatal(err)
				}
				windows = append(windows, f)
			}
			slices.SortFunc(windows, func(x, y floorResult) int { return cmp.Compare(x.PerPacket(), y.PerPacket()) })
			floor = windows[len(windows)/2]
		}
		b.ReportMetric(us(floor.PerPacket()), "floor-µs/pkt")
	})
	if floor.Packets == 0 {
		b.Fatal("no floor measurement")
	}
	steps, maxLoad := searchMaxLoad(b, p, floor.PerPacket())
	if maxLoad == 0 {
		printTable(os.Stdout, floor, steps, 0, nil)
		b.Fatal("even one subscriber overloads the machine")
	}
	halfSubs := max(maxLoad/2, 1)
	delayFloor := runDelayFloor(b, benchPublishers*benchRate*halfSubs)
	half, ok := runStep(b, p, "half-max", halfSubs, halfWindow, floor.PerPacket())
	if !ok {
		b.Fatal("half of the maximum load failed")
	}
	fanout := runFanoutFloor(b, maxLoad)
	printTable(os.Stdout, floor, steps, maxLoad, &half)
	for _, r := range steps {
		if r.Subscribers == maxLoad {
			printCostGoal(os.Stdout, floor, r)
			printFanoutFloor(os.Stdout, fanout, r)
		}
	}
	printDelayFloor(os.Stdout, delayFloor, half)
}

// runFanoutFloor measures the fan-out floor at subs subscribers and the
// load's incoming packet rate, as a sub-benchmark.
func runFanoutFloor(b *testing.B, subs int) floorResult {
	var f floorResult
	b.Run("fanout-floor", func(b *testing.B) {
		for range b.N {
			r, err := measureFanoutFloor(clientAddress, sfuAddress, benchPayload, subs, benchPublishers*benchRate, window)
			if err != nil {
				b.Fatal(err)
			}
			f = r
		}
		b.ReportMetric(us(f.PerPacket()), "floor-µs/pkt")
	})
	return f
}

// runDelayFloor measures the machine's own one-way delay at rate packets
// per second, the half-load's forwarded rate, as a sub-benchmark.
func runDelayFloor(b *testing.B, rate int) delayFloor {
	var f delayFloor
	b.Run("delay-floor", func(b *testing.B) {
		for range b.N {
			d, err := measureDelayFloor(clientAddress, sfuAddress, rate, benchPayload, halfWindow)
			if err != nil {
				b.Fatal(err)
			}
			f = delayFloor{Rate: rate, P50: d.Quantile(0.5), P99: d.Quantile(0.99), Count: d.Count()}
		}
		b.ReportMetric(us(f.P50), "p50-µs")
		b.ReportMetric(us(f.P99), "p99-µs")
	})
	return f
}

// searchMaxLoad doubles the subscribers until a load is over the maximum,
// then tries once halfway between the last load that was not and the
// first that was, and returns every step (by subscribers) and the largest
// load that was not over the maximum.
func searchMaxLoad(b *testing.B, p *sfuProcess, floor time.Duration) ([]stepResult, int) {
	var steps []stepResult
	maxLoad, over := 0, 0
	try := func(subs int) bool {
		r, ok := runStep(b, p, fmt.Sprintf("subscribers=%d", subs), subs, window, floor)
		if !ok {
			return false
		}
		steps = append(steps, r)
		if min(r.Window.Delivery, r.Throughput()) < minDelivery || r.MachineShare() > maxMachineShare ||
			r.Window.P50 > maxMedianDelay {
			return false
		}
		maxLoad = subs
		return true
	}
	for subs := 1; subs <= maxSubscribers; subs *= 2 {
		if !try(subs) {
			over = subs
			break
		}
	}
	if mid := (maxLoad + over) / 2; maxLoad > 1 && mid > maxLoad {
		try(mid)
	}
	slices.SortFunc(steps, func(x, y stepResult) int { return x.Subscribers - y.Subscribers })
	return steps, maxLoad
}

// runStep runs one load as a sub-benchmark and returns its last window;
// ok is false when the load could not be set up.
func runStep(b *testing.B, p *sfuProcess, name string, subs int, d, floor time.Duration) (stepResult, bool) {
	cfg := loadConfig(p, fmt.Sprintf("bench-%s", name), benchPublishers, subs, benchRate)
	cfg.PayloadBytes = benchPayload
	l, err := tryLoad(cfg)
	if err != nil {
		b.Logf("%s: %v", name, err)
		return stepResult{}, false
	}
	defer func() {
		if err := l.Close(); err != nil {
			b.Logf("%s: close: %v", name, err)
		}
	}()
	time.Sleep(warmup)
	var last stepResult
	ok := b.Run(name, func(b *testing.B) {
		for range b.N {
			r, err := measureWindow(l, p.Pid(), subs, d)
			if err != nil {
				b.Fatal(err)
			}
			last = r
		}
		reportStep(b, last, floor)
	})
	profileSFU(b, p.Pid(), name, d)
	return last, ok && last.Window.Sent > 0
}
