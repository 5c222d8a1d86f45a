package sfubench

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/kiroku-sfu/kiroku/loadgen"
)

// The TURN comparison (issue 15): the same load with every client's
// media direct, relayed through the built-in TURN server over UDP, and
// over TCP, in interleaved rounds. The SFU's CPU includes its TURN
// server's, which is what relaying costs the host.
const (
	turnPublishers  = 4
	turnSubscribers = 8
	turnMinRounds   = 5
	goalTURNRatio   = 1.5
	// turnRate is each publisher's packets per second: high enough that
	// the figure is the cost of a packet, not of the allocations' timers.
	turnRate = 400
)

var turnLoads = []string{loadgen.TURNOff, loadgen.TURNUDP, loadgen.TURNTCP}

// turnConf is the SFU's TURN configuration: UDP and TCP on port.
func turnConf(port int) string {
	return fmt.Sprintf("turn = true\nturn_port = %d\nturn_tcp = true\n", port)
}

func freeTURNPort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp4", sfuAddress+":0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// BenchmarkForwardingTURN reports the SFU's CPU per forwarded packet with
// relayed clients over that with direct ones, same run ("turn-udp-x-direct",
// "turn-tcp-x-direct": medians of each round's own ratio).
func BenchmarkForwardingTURN(b *testing.B) {
	p := startTestSFU(b, turnConf(freeTURNPort(b)))
	var rounds [][]stepResult
	for round := range max(b.N, turnMinRounds) {
		r := make([]stepResult, len(turnLoads))
		for k := range turnLoads {
			i := (round + k) % len(turnLoads)
			cfg := loadConfig(p, fmt.Sprintf("turn-%d-%d", i, round), turnPublishers, turnSubscribers, turnRate)
			cfg.PayloadBytes, cfg.TURN = benchPayload, turnLoads[i]
			res, err := measureMixLoad(b, p, cfg, turnSubscribers)
			if err != nil {
				b.Fatalf("load over %q: %v", turnLoads[i], err)
			}
			r[i] = res
		}
		rounds = append(rounds, r)
	}
	var report strings.Builder
	fmt.Fprintf(&report, "\nTURN: %d publishers × %d pkt/s, %d subscribers, %d rounds; SFU (with its TURN server) µs of CPU per forwarded packet\n",
		turnPublishers, turnRate, turnSubscribers, len(rounds))
	worst := 0.0
	for i, name := range turnLoads {
		var per []time.Duration
		var ratios []float64
		for _, r := range rounds {
			if !delivered(r[i]) || !delivered(r[0]) {
				continue
			}
			per = append(per, r[i].RunPerPacket())
			ratios = append(ratios, ratio(r[i].RunPerPacket(), r[0].RunPerPacket()))
		}
		label := "direct"
		if name != loadgen.TURNOff {
			label = "turn-" + name
		}
		if len(per) == 0 {
			fmt.Fprintf(&report, "%-9s no round in which it and the direct load both got through\n", label)
			continue
		}
		b.ReportMetric(us(median(per)), label+"-µs/pkt")
		if i > 0 {
			b.ReportMetric(median(ratios), label+"-x-direct")
			worst = max(worst, median(ratios))
		}
		fmt.Fprintf(&report, "%-9s %6.2f µs/pkt  ×direct %.3f (%.3f–%.3f)\n", label, us(median(per)), median(ratios),
			minOf(ratios), maxOf(ratios))
	}
	verdict := "met"
	if worst > goalTURNRatio {
		verdict = "NOT met"
	}
	fmt.Fprintf(&report, "goal ≤ %.1f× the direct CPU per packet: worst median %.3f×: %s\n", goalTURNRatio, worst, verdict)
	fmt.Print(report.String())
}

// TestLoadgenThroughTURN relays every client of a small load over TURN
// UDP, then over TURN TCP: everything arrives.
func TestLoadgenThroughTURN(t *testing.T) {
	p := startTestSFU(t, turnConf(freeTURNPort(t)))
	for _, transport := range []string{loadgen.TURNUDP, loadgen.TURNTCP} {
		t.Run(transport, func(t *testing.T) {
			const rate = 50
			cfg := loadConfig(p, "turn-"+transport, 2, 2, rate)
			cfg.TURN = transport
			l := startLoad(t, cfg)
			from := l.Snapshot()
			time.Sleep(2 * time.Second)
			w := l.Snapshot().Window(from)
			if err := l.Close(); err != nil {
				t.Errorf("close load: %v", err)
			}
			if w.Delivery < 0.99 || float64(w.Received) < 0.97*float64(w.Offered) || w.Offered == 0 {
				t.Errorf("received %d of %d offered over TURN %s (%.3f by sequence numbers)", w.Received, w.Offered, transport, w.Delivery)
			}
		})
	}
}
