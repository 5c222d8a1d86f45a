package sfubench

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/kiroku-sfu/kiroku/bench/proccpu"
	"github.com/kiroku-sfu/kiroku/loadgen"
)

// stepResult is one measured window at one load.
type stepResult struct {
	Subscribers int
	Window      loadgen.Window
	SFUCPU      time.Duration // the SFU process's CPU time in the window
	SelfCPU     time.Duration // this process's (the load generator's)
	SFUWait     time.Duration // the SFU's threads' time runnable but not running
	// SFURun is the SFU's threads' run time in the window (schedstat, in
	// ns rather than SFUCPU's 10 ms ticks); set by the mixed loads only.
	SFURun time.Duration
}

// PerPacket is the SFU's CPU time per packet a subscriber received.
func (r stepResult) PerPacket() time.Duration {
	if r.Window.Received == 0 {
		return 0
	}
	return r.SFUCPU / time.Duration(r.Window.Received)
}

// RunPerPacket is SFURun per packet a subscriber received.
func (r stepResult) RunPerPacket() time.Duration {
	if r.Window.Received == 0 {
		return 0
	}
	return r.SFURun / time.Duration(r.Window.Received)
}

// Throughput is the packets receivers got over the packets offered to
// them (the packets the publishers sent times the subscribers, for a
// plain load): below 1 when packets are lost or when flows stall or
// queue (which sequence-number loss does not show).
func (r stepResult) Throughput() float64 {
	if r.Window.Offered == 0 {
		return 0
	}
	return float64(r.Window.Received) / float64(r.Window.Offered)
}

// MachineShare is the fraction of all CPUs the SFU and the load generator
// used together.
func (r stepResult) MachineShare() float64 {
	if r.Window.Duration <= 0 {
		return 0
	}
	return (r.SFUCPU + r.SelfCPU).Seconds() / r.Window.Duration.Seconds() / float64(runtime.NumCPU())
}

// measureWindow samples the SFU's CPU, this process's CPU and the load's
// counters across d.
func measureWindow(l *loadgen.Load, pid, subscribers int, d time.Duration) (stepResult, error) {
	sfu0, err := proccpu.Process(pid)
	if err != nil {
		return stepResult{}, err
	}
	self0, err := selfCPU()
	if err != nil {
		return stepResult{}, err
	}
	wait0, err := runQueueWait(pid)
	if err != nil {
		return stepResult{}, err
	}
	s0 := l.Snapshot()
	time.Sleep(d)
	s1 := l.Snapshot()
	wait1, err := runQueueWait(pid)
	if err != nil {
		return stepResult{}, err
	}
	sfu1, err := proccpu.Process(pid)
	if err != nil {
		return stepResult{}, err
	}
	self1, err := selfCPU()
	return stepResult{Subscribers: subscribers, Window: s1.Window(s0),
		SFUCPU: sfu1 - sfu0, SelfCPU: self1 - self0, SFUWait: wait1 - wait0}, err
}

// tryLoad starts a load and waits for every flow; failing to connect
// under load is a result (the server is saturated), not a test failure.
func tryLoad(cfg loadgen.Config) (*loadgen.Load, error) {
	ctx, cancel := context.WithTimeout(context.Background(), cfg.ConnectTimeout)
	defer cancel()
	l, err := loadgen.Start(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := l.WaitFlowing(ctx); err != nil {
		return nil, fmt.Errorf("%w (close: %w)", err, l.Close())
	}
	return l, nil
}

// reportStep reports one window's figures as benchmark metrics.
func reportStep(b *testing.B, r stepResult, floor time.Duration) {
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	b.ReportMetric(us(r.PerPacket()), "sfu-µs/pkt")
	if floor > 0 {
		b.ReportMetric(float64(r.PerPacket())/float64(floor), "x-floor")
	}
	b.ReportMetric(r.Window.ReceivedRate(), "fwd-pkt/s")
	b.ReportMetric(100*r.Throughput(), "delivered-%")
	b.ReportMetric(100*(1-r.Window.Delivery), "lost-%")
	b.ReportMetric(us(r.Window.P50), "p50-µs")
	b.ReportMetric(us(r.Window.P99), "p99-µs")
	b.ReportMetric(us(r.Window.AppP99), "stack-p99-µs")
	b.ReportMetric(100*r.MachineShare(), "cpu-%")
	b.ReportMetric(100*share(r.SFUWait, r.Window.Duration), "sfu-wait-%")
}

// printTable writes the run's results.
func printTable(w io.Writer, floor floorResult, steps []stepResult, maxLoad int, half *stepResult) {
	fmt.Fprintf(w, "\nfloor (SRTP encrypt + UDP send, one thread, median of 3 one-second windows): %.2f µs/packet over %d packets\n",
		us(floor.PerPacket()), floor.Packets)
	fmt.Fprintf(w, "%-10s %9s %9s %6s %10s %6s %8s %8s %9s %7s %7s %8s\n",
		"subs", "fwd pkt/s", "delivered", "lost", "sfu µs/pkt", "×floor", "p50 µs", "p99 µs", "stack p99",
		"sfu cpu", "gen cpu", "sfu wait")
	rows := steps
	if half != nil {
		rows = append(append([]stepResult(nil), steps...), *half)
	}
	for i, r := range rows {
		label := fmt.Sprint(r.Subscribers)
		if half != nil && i == len(rows)-1 {
			label += " (half)"
		}
		fmt.Fprintf(w, "%-10s %9.0f %8.2f%% %5.2f%% %10.2f %6.2f %8.0f %8.0f %9.0f %6.0f%% %6.0f%% %7.0f%%\n", label,
			r.Window.ReceivedRate(), 100*r.Throughput(), 100*(1-r.Window.Delivery), us(r.PerPacket()), ratio(r.PerPacket(), floor.PerPacket()),
			us(r.Window.P50), us(r.Window.P99), us(r.Window.AppP99), 100*share(r.SFUCPU, r.Window.Duration),
			100*share(r.SelfCPU, r.Window.Duration), 100*share(r.SFUWait, r.Window.Duration))
	}
	fmt.Fprintf(w, "maximum load: %d subscribers; delays from the publisher's UDP socket to the subscriber's"+
		" (stack p99: from the publisher's stamp through both clients' SRTP and pion stacks); cpu and wait"+
		" (runnable, no CPU free) columns are %% of one CPU (the machine has %d); load average %s\n",
		maxLoad, runtime.NumCPU(), loadAverage())
}

// share is cpu as a fraction of one CPU over wall.
func share(cpu, wall time.Duration) float64 {
	if wall <= 0 {
		return 0
	}
	return cpu.Seconds() / wall.Seconds()
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

func ratio(a, b time.Duration) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// delayFloor is the machine's own delay on the media path, no SFU.
type delayFloor struct {
	Rate     int
	Count    uint64
	P50, P99 time.Duration
}

// printDelayFloor writes the delay floor and the delay the SFU adds to it
// at half the maximum load.
func printDelayFloor(w io.Writer, f delayFloor, half stepResult) {
	fmt.Fprintf(w, "delay floor (plain UDP on the same path, %d pkt/s, %d packets): p50 %.0f µs, p99 %.0f µs\n",
		f.Rate, f.Count, us(f.P50), us(f.P99))
	added := half.Window.P99 - f.P99
	fmt.Fprintf(w, "added at half load (%d subscribers): p50 %+.0f µs, p99 %+.0f µs\n",
		half.Subscribers, us(half.Window.P50-f.P50), us(added))
	fmt.Fprintf(w, "goal p99 added < %v at half load: %s\n", goalAddedP99, verdict(added < goalAddedP99))
}

// printFanoutFloor writes the fan-out floor at the maximum load and the
// SFU's cost against it: context for the goal, which is judged against
// the tight-loop floor.
func printFanoutFloor(w io.Writer, f floorResult, r stepResult) {
	fmt.Fprintf(w, "fan-out floor at %d subscribers (SRTP + unconnected UDP send to each subscriber's own socket, paced like the load, nothing else): %.2f µs/packet over %d packets; the SFU is %.2f× that\n",
		r.Subscribers, us(f.PerPacket()), f.Packets, ratio(r.PerPacket(), f.PerPacket()))
}

// printCostGoal writes how the cost per packet at the maximum load
// compares with goalFloorRatio.
func printCostGoal(w io.Writer, floor floorResult, atMax stepResult) {
	r := ratio(atMax.PerPacket(), floor.PerPacket())
	fmt.Fprintf(w, "goal ≤ %.0f× floor per packet: %.2f× at the maximum load: %s\n",
		goalFloorRatio, r, verdict(r <= goalFloorRatio))
}

func verdict(met bool) string {
	if met {
		return "met"
	}
	return "MISSED"
}

// loadAverage is the first three fields of /proc/loadavg, or "?".
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(data)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "?"
}
