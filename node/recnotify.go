package node

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/kiroku-sfu/kiroku/archive"
	"github.com/kiroku-sfu/kiroku/webhooks"
)

// hookWait bounds how long one recording webhook waits for the webhooks
// of the other kind queued before it (an endpoint that is down would
// otherwise hold it through all its retries).
const hookWait = 5 * time.Second

// hookQueue is the size of the recording webhooks' ordered hand-off.
const hookQueue = 1024

// hookLedger counts the session and event webhooks handed to the client,
// so that a webhook of one kind can wait until every earlier one of the
// other kind has an outcome: the client sends each kind from its own
// queue, so without this archive.started could overtake
// recording.started and recording.report the last archive.available.
// Every Send and every configured Call of those kinds must be counted
// (handed) before it is made.
type hookLedger struct {
	session, event atomic.Int64
	client         *webhooks.Client
}

func (l *hookLedger) counter(k webhooks.Kind) *atomic.Int64 {
	if k == webhooks.Session {
		return &l.session
	}
	return &l.event
}

// handed notes one webhook of kind k about to be given to the client.
func (l *hookLedger) handed(k webhooks.Kind) { l.counter(k).Add(1) }

// handedCall notes a synchronous call of kind k, which has an outcome
// only when the kind is configured.
func (l *hookLedger) handedCall(k webhooks.Kind) {
	if l.client.Configured(k) {
		l.handed(k)
	}
}

// waitSettled returns once every webhook of kind k handed so far has an
// outcome, or after max.
func (l *hookLedger) waitSettled(k webhooks.Kind, max time.Duration) {
	target := l.counter(k).Load()
	deadline := time.Now().Add(max)
	for time.Now().Before(deadline) {
		c := l.client.Stats().Snapshot(k)
		if c.Successful+c.Failed+c.Ignored+c.Dropped >= target {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// orderedNotifier hands archive's webhooks to the client in the order
// archive produced them, each once the webhooks of the other kind before
// it are out, as Sora orders them. One goroutine it owns does the
// hand-off; Close stops it after the queue is empty. It never blocks a
// caller: when the queue is full, a webhook goes out at once, unordered.
type orderedNotifier struct {
	inner  archive.Notifier
	ledger *hookLedger
	wait   time.Duration

	mu     sync.Mutex
	closed bool
	queue  chan hookItem
	done   chan struct{}
	// waiting counts the webhooks queued and not yet handed to the client.
	waiting atomic.Int64
}

type hookItem struct {
	kind webhooks.Kind
	send func()
}

var _ archive.Notifier = (*orderedNotifier)(nil)

func newOrderedNotifier(inner archive.Notifier, ledger *hookLedger, wait time.Duration) *orderedNotifier {
	n := &orderedNotifier{inner: inner, ledger: ledger, wait: wait,
		queue: make(chan hookItem, hookQueue), done: make(chan struct{})}
	go n.run()
	return n
}

// Event queues an event webhook.
func (n *orderedNotifier) Event(typ string, c archive.Connection, channelID, sessionID string, data any) {
	n.enqueue(hookItem{webhooks.Event, func() { n.inner.Event(typ, c, channelID, sessionID, data) }})
}

// Session queues a session webhook.
func (n *orderedNotifier) Session(typ, channelID, sessionID string, data any) {
	n.enqueue(hookItem{webhooks.Session, func() { n.inner.Session(typ, channelID, sessionID, data) }})
}

func (n *orderedNotifier) enqueue(it hookItem) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.closed {
		n.waiting.Add(1)
		select {
		case n.queue <- it:
			return
		default:
			n.waiting.Add(-1)
		}
	}
	n.ledger.handed(it.kind)
	it.send()
}

func (n *orderedNotifier) run() {
	defer close(n.done)
	for it := range n.queue {
		other := webhooks.Session
		if it.kind == webhooks.Session {
			other = webhooks.Event
		}
		n.ledger.waitSettled(other, n.wait)
		n.ledger.handed(it.kind)
		it.send()
		n.waiting.Add(-1)
	}
}

// settleSession returns once every webhook queued so far is handed to the
// client and every session webhook handed has an outcome, or after max:
// recording.started is out before the first connection's offer.
func (n *orderedNotifier) settleSession(max time.Duration) {
	deadline := time.Now().Add(max)
	for n.waiting.Load() > 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	n.ledger.waitSettled(webhooks.Session, time.Until(deadline))
}

// Close hands over what is queued and stops the goroutine; later
// webhooks go out at once.
func (n *orderedNotifier) Close() {
	n.mu.Lock()
	if !n.closed {
		n.closed = true
		close(n.queue)
	}
	n.mu.Unlock()
	<-n.done
}
