package sfubench

import (
	"fmt"
	"os"
	"testing"
	"time"
)

// The ingest comparison (issue 13): ingestPublishers publishers with one
// subscriber, so that receiving is half of what the SFU does per packet,
// once publishing over the WebSocket signaling (as sora-js-sdk does) and
// once over WHIP, in interleaved rounds.
const (
	ingestPublishers = 8
	ingestMinRounds  = 5
)

// BenchmarkIngestWHIP reports the SFU's CPU per packet with WHIP
// publishers over that with WebSocket publishers of the same load
// generator, in the same run ("whip-x-ws", the median of each round's
// own ratio).
func BenchmarkIngestWHIP(b *testing.B) {
	p := startTestSFU(b, os.Getenv(sfuConfEnv))
	var ratios []float64
	var ws, whip []time.Duration
	for round := range max(b.N, ingestMinRounds) {
		var got [2]stepResult
		for k := range 2 {
			i := (round + k) % 2
			cfg := loadConfig(p, fmt.Sprintf("ingest-%d-%d", i, round), ingestPublishers, 1, mixRate)
			cfg.PayloadBytes, cfg.WHIP = benchPayload, i == 1
			r, err := measureMixLoad(b, p, cfg, 1)
			if err != nil {
				b.Fatalf("ingest load (whip %t): %v", cfg.WHIP, err)
			}
			got[i] = r
		}
		if !delivered(got[0]) || !delivered(got[1]) {
			continue
		}
		ws, whip = append(ws, got[0].RunPerPacket()), append(whip, got[1].RunPerPacket())
		ratios = append(ratios, ratio(got[1].RunPerPacket(), got[0].RunPerPacket()))
	}
	if len(ratios) == 0 {
		b.Fatal("no round in which both loads got through")
	}
	b.ReportMetric(us(median(ws)), "ws-µs/pkt")
	b.ReportMetric(us(median(whip)), "whip-µs/pkt")
	b.ReportMetric(median(ratios), "whip-x-ws")
	fmt.Printf("\ningest: %d publishers × %d pkt/s, one subscriber, %d valid rounds: WebSocket %.2f µs/pkt, WHIP %.2f µs/pkt, "+
		"WHIP ÷ WebSocket median %.3f (min %.3f, max %.3f)\n", ingestPublishers, mixRate, len(ratios),
		us(median(ws)), us(median(whip)), median(ratios), minOf(ratios), maxOf(ratios))
}

func minOf(v []float64) float64 {
	m := v[0]
	for _, x := range v {
		m = min(m, x)
	}
	return m
}

func maxOf(v []float64) float64 {
	m := v[0]
	for _, x := range v {
		m = max(m, x)
	}
	return m
}
