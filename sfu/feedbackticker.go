package sfu

import (
	"sync"
	"time"
)

// flusher is one connection's feedback of one kind, sent each interval.
type flusher interface{ flush() }

// feedbackTicker flushes every registered connection's feedback (their
// congestion feedback and their NACKs) each interval, from one goroutine
// that runs while any is registered: no ticker, and no goroutine, per
// connection.
type feedbackTicker struct {
	interval time.Duration

	mu   sync.Mutex
	set  map[flusher]struct{}
	stop chan struct{} // closes the running goroutine; nil when none runs
}

func newFeedbackTicker(interval time.Duration) *feedbackTicker {
	return &feedbackTicker{interval: interval, set: make(map[flusher]struct{})}
}

func (t *feedbackTicker) add(f flusher) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.set[f] = struct{}{}
	if t.stop == nil {
		t.stop = make(chan struct{})
		go t.run(t.stop)
	}
}

func (t *feedbackTicker) remove(f flusher) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.set, f)
	if len(t.set) == 0 && t.stop != nil {
		close(t.stop)
		t.stop = nil
	}
}

// run flushes until stop closes.
func (t *feedbackTicker) run(stop chan struct{}) {
	tick := time.NewTicker(t.interval)
	defer tick.Stop()
	var batch []flusher
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		t.mu.Lock()
		batch = batch[:0]
		for f := range t.set {
			batch = append(batch, f)
		}
		t.mu.Unlock()
		for _, f := range batch {
			f.flush()
		}
		clear(batch)
	}
}
