package loadgen

import (
	"sync"
	"testing"
	"time"
)

func TestHistogramQuantiles(t *testing.T) {
	us := time.Microsecond
	for _, tc := range []struct {
		name          string
		delays        []time.Duration
		p50, p99, max time.Duration
	}{
		{"empty", nil, 0, 0, 0},
		{"one", []time.Duration{250 * us}, 250 * us, 250 * us, 250 * us},
		{"negative is zero", []time.Duration{-5 * us}, 0, 0, 0},
		{"coarse range", []time.Duration{12_345 * us}, 12_300 * us, 12_300 * us, 12_300 * us},
		{"overflow", []time.Duration{5 * time.Second}, lowerBound(overflowSlot), lowerBound(overflowSlot), lowerBound(overflowSlot)},
		{"spread", spread(1000), 500 * us, 990 * us, 1000 * us},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var h Histogram
			for _, d := range tc.delays {
				h.Record(d)
			}
			s := h.Snapshot()
			if got := s.Quantile(0.5); got != tc.p50 {
				t.Errorf("p50 = %v, want %v", got, tc.p50)
			}
			if got := s.Quantile(0.99); got != tc.p99 {
				t.Errorf("p99 = %v, want %v", got, tc.p99)
			}
			if got := s.Quantile(1); got != tc.max {
				t.Errorf("max = %v, want %v", got, tc.max)
			}
		})
	}
}

// spread returns delays of 1..n µs.
func spread(n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = time.Duration(i+1) * time.Microsecond
	}
	return out
}

func TestHistogramWindowAndConcurrency(t *testing.T) {
	var h Histogram
	h.Record(time.Millisecond)
	before := h.Snapshot()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 1000 {
				h.Record(100 * time.Microsecond)
			}
		})
	}
	wg.Wait()
	w := h.Snapshot().Sub(before)
	if w.Count() != 4000 || w.Quantile(1) != 100*time.Microsecond {
		t.Fatalf("window count %d max %v, want 4000 at 100µs", w.Count(), w.Quantile(1))
	}
}
