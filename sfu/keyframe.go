package sfu

import (
	"sync"
	"time"
)

// keyframeLimiter merges keyframe requests for one track into at most one
// PLI per interval. A request inside the interval is remembered and sent
// when the interval has passed (checked by due on packet arrival), so no
// request is lost and none is repeated.
type keyframeLimiter struct {
	interval time.Duration

	mu      sync.Mutex
	last    time.Time // when the last PLI was sent; zero before the first
	pending bool      // a request arrived inside the interval
	sent    uint64    // PLIs sent
	merged  uint64    // requests merged into another PLI
}

// request records a keyframe request at now and reports whether a PLI
// should be sent right away.
func (l *keyframeLimiter) request(now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.last.IsZero() || now.Sub(l.last) >= l.interval {
		l.last, l.pending = now, false
		l.sent++
		return true
	}
	if l.pending {
		l.merged++
	}
	l.pending = true
	return false
}

// due reports whether a postponed request should be sent now.
func (l *keyframeLimiter) due(now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.pending || now.Sub(l.last) < l.interval {
		return false
	}
	l.last, l.pending = now, false
	l.sent++
	return true
}

// counts returns the PLIs sent and the requests merged away.
func (l *keyframeLimiter) counts() (sent, merged uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sent, l.merged
}
