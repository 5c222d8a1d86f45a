package memudp

import (
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// inboxDatagrams bounds the datagrams waiting in a Conn's inbox: about a
// socket buffer's worth of relayed RTP. More are dropped, as a full
// socket buffer drops them.
const inboxDatagrams = 1024

// datagram is one datagram handed over in memory.
type datagram struct {
	buf  *[]byte
	from netip.AddrPort
	at   time.Time // when it was handed over, for a batched Conn (Arrival)
}

// inbox is a bounded FIFO of datagrams.
type inbox struct {
	count atomic.Int32 // lets an empty check skip the lock

	mu     sync.Mutex
	ring   []datagram
	head   int
	closed bool
}

func (q *inbox) init(capacity int) { q.ring = make([]datagram, capacity) }

// push queues d; it reports false when the inbox is full or closed.
func (q *inbox) push(d datagram) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := int(q.count.Load())
	if q.closed || n == len(q.ring) {
		return false
	}
	q.ring[(q.head+n)%len(q.ring)] = d
	q.count.Add(1)
	return true
}

// pop takes the oldest datagram.
func (q *inbox) pop() (datagram, bool) {
	if q.count.Load() == 0 {
		return datagram{}, false
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.count.Load() == 0 {
		return datagram{}, false
	}
	d := q.ring[q.head]
	q.ring[q.head] = datagram{}
	q.head = (q.head + 1) % len(q.ring)
	q.count.Add(-1)
	return d, true
}

// close refuses further datagrams and returns those waiting.
func (q *inbox) close() []datagram {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	var out []datagram
	for q.count.Load() > 0 {
		out = append(out, q.ring[q.head])
		q.ring[q.head] = datagram{}
		q.head = (q.head + 1) % len(q.ring)
		q.count.Add(-1)
	}
	return out
}
