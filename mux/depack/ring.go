package depack

import "time"

// slotState says what a ring slot holds.
type slotState uint8

const (
	slotEmpty slotState = iota
	slotHeld            // a packet waiting for its turn
	slotDone            // a packet already consumed (kept to spot duplicates)
)

// slot is one packet in the reorder ring. A held packet's payload buffer
// comes from the ring's spares and goes back once the packet is consumed,
// so a steady stream allocates nothing here and the ring keeps buffers
// only for the packets it holds.
type slot struct {
	ext     int64 // extended sequence number
	state   slotState
	ts      int64 // extended timestamp
	rtpTS   uint32
	marker  bool
	padding bool
	arrival time.Duration
	payload []byte
}

// ring is a fixed-size reorder buffer indexed by extended sequence number.
type ring struct {
	slots  []slot
	mask   int64
	spares [][]byte // payload buffers of consumed packets, for reuse
}

// maxSpares bounds the payload buffers a ring keeps for reuse.
const maxSpares = 8

func newRing(size int) ring {
	return ring{slots: make([]slot, size), mask: int64(size - 1)}
}

func (r *ring) size() int64 { return int64(len(r.slots)) }

func (r *ring) at(ext int64) *slot { return &r.slots[ext&r.mask] }

// held returns the packet numbered ext if it is waiting in the ring.
func (r *ring) held(ext int64) (*slot, bool) {
	s := r.at(ext)
	return s, s.state == slotHeld && s.ext == ext
}

// buffer returns an empty payload buffer for slot s: its own, or a spare.
func (r *ring) buffer(s *slot) []byte {
	if s.payload != nil {
		return s.payload[:0]
	}
	n := len(r.spares)
	if n == 0 {
		return nil
	}
	b := r.spares[n-1]
	r.spares[n-1] = nil
	r.spares = r.spares[:n-1]
	return b
}

// release takes the payload buffer of consumed slot s back as a spare.
func (r *ring) release(s *slot) {
	if s.payload != nil && len(r.spares) < maxSpares {
		r.spares = append(r.spares, s.payload[:0])
	}
	s.payload = nil
}

// clear forgets every packet but keeps the payload buffers.
func (r *ring) clear() {
	for i := range r.slots {
		r.slots[i].state = slotEmpty
	}
}

// earliestArrival returns the earliest arrival among the packets held
// between from and to (inclusive); ok is false when none is held.
func (r *ring) earliestArrival(from, to int64) (min time.Duration, ok bool) {
	for ext := from; ext <= to; ext++ {
		if s, held := r.held(ext); held && (!ok || s.arrival < min) {
			min, ok = s.arrival, true
		}
	}
	return min, ok
}

// ringSize returns the ring size for a reorder window: the smallest power
// of two holding twice the window, at least minRing.
func ringSize(window int) int {
	size := minRing
	for size < 2*window {
		size <<= 1
	}
	return size
}
