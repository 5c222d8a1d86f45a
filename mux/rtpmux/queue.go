package rtpmux

import (
	"time"

	"github.com/kiroku-sfu/kiroku/mux"
)

// queued is a frame waiting to be interleaved. Its data is owned by the
// queue and recycled after the writer has seen it.
type queued struct {
	ref      time.Duration // on the reference clock
	keyframe bool
	data     []byte
	config   *mux.VideoConfig
}

// fifo is one track's frames in arrival order (their times increase).
type fifo struct {
	items []queued
	head  int
}

func (q *fifo) len() int { return len(q.items) - q.head }

func (q *fifo) push(it queued) {
	if q.head > 32 && q.head*2 >= len(q.items) { // reclaim the popped prefix
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items, q.head = q.items[:n], 0
	}
	q.items = append(q.items, it)
}

func (q *fifo) peek() *queued { return &q.items[q.head] }

func (q *fifo) pop() queued {
	it := q.items[q.head]
	q.items[q.head] = queued{}
	q.head++
	return it
}

// bufPool recycles frame buffers between the queue and the writer.
type bufPool struct {
	free [][]byte
}

// maxPooled bounds how many idle buffers are kept.
const maxPooled = 64

func (p *bufPool) copyOf(b []byte) []byte {
	var buf []byte
	if n := len(p.free); n > 0 {
		buf, p.free = p.free[n-1], p.free[:n-1]
	}
	return append(buf[:0], b...)
}

func (p *bufPool) put(b []byte) {
	if len(p.free) < maxPooled && cap(b) <= 1<<20 {
		p.free = append(p.free, b[:0])
	}
}
