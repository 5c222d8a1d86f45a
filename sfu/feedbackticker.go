package sfu

import (
	"sync"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
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

// feedbackLink is what a ticker-driven feedback interceptor (congestion
// feedback, NACKs) keeps of its connection: the RTCP writer it sends
// through once bound, whether the connection closed, and the ticker.
// Its mutex guards the interceptor's own state too.
type feedbackLink struct {
	ticker *feedbackTicker

	mu     sync.Mutex
	writer interceptor.RTCPWriter // nil until bound
	closed bool
}

// bindWriter stores writer and, under the lock, lets init prepare what
// the owner needs to send, then puts owner on the ticker; after the
// connection closed it does nothing.
func (l *feedbackLink) bindWriter(owner flusher, writer interceptor.RTCPWriter, init func()) interceptor.RTCPWriter {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return writer
	}
	l.writer = writer
	if init != nil {
		init()
	}
	l.mu.Unlock()
	l.ticker.add(owner)
	return writer
}

// send writes pkts, if any, through w outside the lock.
func send(w interceptor.RTCPWriter, pkts []rtcp.Packet) {
	if len(pkts) > 0 {
		_, _ = w.Write(pkts, nil) // a closed transport: the connection is leaving
	}
}

// leave marks the connection closed and takes owner off the ticker.
func (l *feedbackLink) leave(owner flusher) error {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	l.ticker.remove(owner)
	return nil
}

// readHeader reads one packet from reader and returns its RTP header,
// parsed once and kept in the attributes for the interceptors above (as
// pion's GetRTPHeader does): the first step of both feedback
// interceptors' readers. A read error comes back with what the read
// returned, a header that does not parse with nothing.
func readHeader(reader interceptor.RTPReader, b []byte, a interceptor.Attributes) (int, interceptor.Attributes, *rtp.Header, error) {
	n, a, err := reader.Read(b, a)
	if err != nil {
		return n, a, nil, err
	}
	if a == nil {
		a = make(interceptor.Attributes)
	}
	h, err := a.GetRTPHeader(b[:n])
	if err != nil {
		return 0, nil, nil, err
	}
	return n, a, h, nil
}
