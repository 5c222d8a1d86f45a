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

// bufPool recycles frame buffers between the queue and the writer. It
// keeps at most maxPooled idle buffers holding at most maxPooledBytes in
// all, and none above maxPooledBuf: a keyframe's buffer is let go once the
// writer has it, so the pool stays about as large as a few ordinary
// frames instead of growing to the largest frames ever seen.
type bufPool struct {
	free  [][]byte
	bytes int // total capacity of free
}

const (
	// maxPooled bounds how many idle buffers are kept.
	maxPooled = 64
	// maxPooledBuf is the largest buffer kept.
	maxPooledBuf = 32 << 10
	// maxPooledBytes bounds the total capacity of the idle buffers.
	maxPooledBytes = 64 << 10
)

func (p *bufPool) copyOf(b []byte) []byte {
	var buf []byte
	if n := len(p.free); n > 0 {
		buf, p.free = p.free[n-1], p.free[:n-1]
		p.bytes -= cap(buf)
	}
	return append(buf[:0], b...)
}

func (p *bufPool) put(b []byte) {
	c := cap(b)
	if len(p.free) < maxPooled && c <= maxPooledBuf && p.bytes+c <= maxPooledBytes {
		p.free = append(p.free, b[:0])
		p.bytes += c
	}
}
