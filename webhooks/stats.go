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

// Stats counts webhook outcomes per kind; safe for concurrent use.
type Stats struct {
	mu     sync.Mutex
	counts map[Kind]*Counts
}

func newStats() *Stats {
	return &Stats{counts: map[Kind]*Counts{Auth: {}, Session: {}, Event: {}}}
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
