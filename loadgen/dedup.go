package loadgen

import "sync"

// dedupWindow is how many sequence numbers behind the newest a flow
// remembers; an older packet is counted as late and not delivered.
const dedupWindow = 1024

// flow tells first arrivals of one publisher's packets at one subscriber
// from retransmitted or duplicated ones.
type flow struct {
	mu      sync.Mutex
	started bool
	highest uint64
	seen    [dedupWindow / 64]uint64 // bit seq%dedupWindow
}

// first reports whether seq arrives here for the first time and is within
// the window.
func (f *flow) first(seq uint64) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case !f.started:
		f.started, f.highest = true, seq
	case seq > f.highest:
		if seq-f.highest >= dedupWindow {
			clear(f.seen[:])
		} else {
			for s := f.highest + 1; s < seq; s++ {
				f.clearBit(s)
			}
		}
		f.highest = seq
	case f.highest-seq >= dedupWindow:
		return false
	case f.bit(seq):
		return false
	}
	f.seen[(seq%dedupWindow)/64] |= 1 << (seq % 64)
	return true
}

func (f *flow) bit(seq uint64) bool {
	return f.seen[(seq%dedupWindow)/64]&(1<<(seq%64)) != 0
}

func (f *flow) clearBit(seq uint64) {
	f.seen[(seq%dedupWindow)/64] &^= 1 << (seq % 64)
}
