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
// the window, and by how many sequence numbers the flow advanced (1 for
// its first packet): the packets the subscriber should have had.
func (f *flow) first(seq uint64) (isFirst bool, advanced uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case !f.started:
		f.started, f.highest, advanced = true, seq, 1
	case seq > f.highest:
		advanced = seq - f.highest
		if seq-f.highest >= dedupWindow {
			clear(f.seen[:])
		} else {
			for s := f.highest + 1; s < seq; s++ {
				f.clearBit(s)
			}
		}
		f.highest = seq
	case f.highest-seq >= dedupWindow:
		return false, 0
	case f.bit(seq):
		return false, 0
	}
	f.seen[(seq%dedupWindow)/64] |= 1 << (seq % 64)
	return true, advanced
}

func (f *flow) bit(seq uint64) bool {
	return f.seen[(seq%dedupWindow)/64]&(1<<(seq%64)) != 0
}

func (f *flow) clearBit(seq uint64) {
	f.seen[(seq%dedupWindow)/64] &^= 1 << (seq % 64)
}
