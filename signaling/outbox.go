package signaling

import "sync"

// outboxLimit bounds the bytes of messages queued for one client. It is
// counted in bytes, not messages, so that a burst of notifications (a
// whole channel joining or leaving at once sends every remaining member
// one "notify" per departure, a few hundred bytes each) fits, while a
// client that stops reading is still cut off before it costs much memory.
const outboxLimit = 1 << 20

// outbox is a session's queue of frames for its writer.
type outbox struct {
	limit int
	ready chan struct{} // holds a token while frames or closed changed

	mu     sync.Mutex
	frames []outFrame
	bytes  int
	closed bool
}

func newOutbox(limit int) *outbox {
	return &outbox{limit: limit, ready: make(chan struct{}, 1)}
}

// push queues f. It reports false, dropping f, when the queued messages
// would exceed the limit; a close frame is always queued. After close it
// drops f and reports true: the session is going away anyway.
func (o *outbox) push(f outFrame) bool {
	o.mu.Lock()
	if o.closed {
		o.mu.Unlock()
		return true
	}
	if f.code == 0 && o.bytes+len(f.data) > o.limit {
		o.mu.Unlock()
		return false
	}
	o.frames = append(o.frames, f)
	o.bytes += len(f.data)
	o.mu.Unlock()
	o.signal()
	return true
}

// close ends the queue: next still returns what was queued, then false.
func (o *outbox) close() {
	o.mu.Lock()
	o.closed = true
	o.mu.Unlock()
	o.signal()
}

func (o *outbox) signal() {
	select {
	case o.ready <- struct{}{}:
	default:
	}
}

// next waits for the oldest queued frame; it reports false once the
// outbox is closed and empty.
func (o *outbox) next() (outFrame, bool) {
	for {
		o.mu.Lock()
		if len(o.frames) > 0 {
			f := o.frames[0]
			o.frames[0] = outFrame{}
			o.frames = o.frames[1:]
			if len(o.frames) == 0 {
				o.frames = nil // let a burst's backing array go
			}
			o.bytes -= len(f.data)
			o.mu.Unlock()
			return f, true
		}
		closed := o.closed
		o.mu.Unlock()
		if closed {
			return outFrame{}, false
		}
		<-o.ready
	}
}
