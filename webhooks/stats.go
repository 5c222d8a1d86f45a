package webhooks

import (
	"math/rand/v2"
	"sync"
	"time"
)

type outcome int

const (
	outcomeSuccessful outcome = iota
	outcomeFailed
	outcomeIgnored
	outcomeDropped
)

// Counts are one webhook kind's counters, named as in Sora's GetStatsReport.
type Counts struct {
	Successful int64 `json:"successful"`
	Failed     int64 `json:"failed"`
	Ignored    int64 `json:"ignored"`
	Dropped    int64 `json:"dropped"`
}

// Stats counts webhook outcomes and request durations per kind; safe for
// concurrent use.
type Stats struct {
	mu        sync.Mutex
	counts    map[Kind]*Counts
	durations map[Kind]*Durations
}

// Durations is a cumulative histogram of one kind's HTTP request times
// (every attempt, retries included), in Prometheus' shape: Buckets[i]
// counts requests that took at most Bounds[i] seconds.
type Durations struct {
	Bounds  []float64
	Buckets []uint64
	Count   uint64
	Sum     float64 // seconds
}

// durationBounds are the histogram's upper bounds in seconds; the
// default webhook time-out is 5 s.
func durationBounds() []float64 {
	return []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}
}

func newStats() *Stats {
	s := &Stats{counts: map[Kind]*Counts{Auth: {}, Session: {}, Event: {}}, durations: map[Kind]*Durations{}}
	for k := range s.counts {
		b := durationBounds()
		s.durations[k] = &Durations{Bounds: b, Buckets: make([]uint64, len(b))}
	}
	return s
}

// observe counts one HTTP request of kind that took d.
func (s *Stats) observe(kind Kind, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.durations[kind]
	if h == nil {
		return
	}
	sec := d.Seconds()
	for i, b := range h.Bounds {
		if sec <= b {
			h.Buckets[i]++
		}
	}
	h.Count++
	h.Sum += sec
}

// DurationsOf returns a copy of kind's request-time histogram.
func (s *Stats) DurationsOf(kind Kind) Durations {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.durations[kind]
	if h == nil {
		return Durations{}
	}
	return Durations{Bounds: h.Bounds, Buckets: append([]uint64(nil), h.Buckets...), Count: h.Count, Sum: h.Sum}
}

func (s *Stats) add(kind Kind, o outcome) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.counts[kind]
	if c == nil {
		return
	}
	switch o {
	case outcomeSuccessful:
		c.Successful++
	case outcomeFailed:
		c.Failed++
	case outcomeIgnored:
		c.Ignored++
	case outcomeDropped:
		c.Dropped++
	}
}

// Snapshot returns a copy of the counters of kind.
func (s *Stats) Snapshot(kind Kind) Counts {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.counts[kind]; c != nil {
		return *c
	}
	return Counts{}
}

// jitter returns d scaled by a random factor in [0.5, 1.5).
func jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.5 + rand.Float64()))
}
