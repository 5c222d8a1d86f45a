package sfubench

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"
)

// The /metrics comparison (issue 14): the same load with and without a
// Prometheus scrape every scrapeEvery, in interleaved rounds.
const (
	scrapeSubscribers = 16
	scrapeEvery       = time.Second
	scrapeMinRounds   = 5
)

// BenchmarkForwardScrape reports the SFU's CPU per forwarded packet while
// /metrics is scraped every second over that without scrapes, in the same
// run ("scrape-x-none", the median of each round's own ratio). The
// counters behind /metrics are the ones the SFU keeps anyway, so the
// ratio is the cost of the scrapes themselves, spread over the packets.
func BenchmarkForwardScrape(b *testing.B) {
	apiPort := freeTCPPort(b)
	p := startTestSFU(b, fmt.Sprintf("%sapi_listen_port = %d\n", os.Getenv(sfuConfEnv), apiPort))
	url := fmt.Sprintf("http://127.0.0.1:%d/metrics", apiPort)
	var ratios []float64
	var none, scraped []time.Duration
	scrapes := 0
	for round := range max(b.N, scrapeMinRounds) {
		var got [2]stepResult
		for k := range 2 {
			i := (round + k) % 2
			cfg := loadConfig(p, fmt.Sprintf("scrape-%d-%d", i, round), mixPublishers, scrapeSubscribers, mixRate)
			cfg.PayloadBytes = benchPayload
			stop := func() int { return 0 }
			if i == 1 {
				stop = scrapeLoop(b, url, scrapeEvery)
			}
			r, err := measureMixLoad(b, p, cfg, scrapeSubscribers)
			scrapes += stop()
			if err != nil {
				b.Fatalf("scrape load (scraped %t): %v", i == 1, err)
			}
			got[i] = r
		}
		if !delivered(got[0]) || !delivered(got[1]) {
			continue
		}
		none, scraped = append(none, got[0].RunPerPacket()), append(scraped, got[1].RunPerPacket())
		ratios = append(ratios, ratio(got[1].RunPerPacket(), got[0].RunPerPacket()))
	}
	if len(ratios) == 0 {
		b.Fatal("no round in which both loads got through")
	}
	if scrapes == 0 {
		b.Fatal("no scrape answered")
	}
	b.ReportMetric(us(median(none)), "none-µs/pkt")
	b.ReportMetric(us(median(scraped)), "scraped-µs/pkt")
	b.ReportMetric(median(ratios), "scrape-x-none")
	fmt.Printf("\n/metrics: %d publishers × %d pkt/s to %d subscribers, %d valid rounds, %d scrapes: none %.2f µs/pkt, "+
		"scraped every %v %.2f µs/pkt, scraped ÷ none median %.3f (min %.3f, max %.3f)\n",
		mixPublishers, mixRate, scrapeSubscribers, len(ratios), scrapes, us(median(none)), scrapeEvery,
		us(median(scraped)), median(ratios), minOf(ratios), maxOf(ratios))
}

// scrapeLoop GETs url every interval until the returned stop is called;
// stop waits for the loop and returns how many scrapes succeeded.
func scrapeLoop(b *testing.B, url string, every time.Duration) (stop func() int) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	n := 0
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			if err := scrapeOnce(url); err != nil {
				b.Errorf("scrape: %v", err)
			} else {
				n++
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() int {
		close(done)
		wg.Wait()
		return n
	}
}

func scrapeOnce(url string) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %s", resp.Status)
	}
	return nil
}

// freeTCPPort is a loopback port nothing listens on at the moment.
func freeTCPPort(tb testing.TB) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
