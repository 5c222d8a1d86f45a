package memudp

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync/atomic"
	"time"
)

// batchSocket is a socket read in batches outside Go's network poller
// (rawsock_linux.go). One goroutine calls recv, datagram and wait; any
// calls writeTo and wake.
type batchSocket interface {
	// recv reads the datagrams queued, up to a batch, without waiting;
	// none queued is (0, nil).
	recv() (int, error)
	// datagram returns the i-th datagram of the last recv, its sender
	// and when the kernel received it (zero: not known); it stays valid
	// until the next recv.
	datagram(i int) ([]byte, netip.AddrPort, time.Time)
	// wait blocks until a datagram is queued, wake is called or the
	// deadline (zero: none) passes.
	wait(deadline time.Time) error
	// batchSize is the most datagrams one recv returns.
	batchSize() int
	// queueLimit is about how many datagrams the socket holds before the
	// kernel drops the next.
	queueLimit() int
	// wake ends the current or next wait.
	wake()
	writeTo(b []byte, addr netip.AddrPort) (int, error)
	close() error
}

// pollWindows is how many coalescing intervals the reader counts
// arrivals over before it decides to poll.
const pollWindows = 8

// batchReader is the reading state of a Conn attached with
// AttachBatched.
//
// The reader waits for the socket only while datagrams are rare. Once
// they come at more than two per coalescing interval, it polls instead:
// it sleeps until the next multiple of the interval on the clock, takes
// everything queued meanwhile, and handles it, so that one thread
// wake-up serves many datagrams rather than one each (on a virtual
// machine a wake-up costs more than receiving and decrypting a packet),
// and every socket's reader, and the recorders, which pace to the same
// clock, wake together. Two polls in a row that find nothing put it back
// to waiting. A datagram waits at most one interval longer than it would
// have.
//
// While one interval's arrivals would fill more than half of the
// socket's receive buffer, the reader halves its interval (down to
// minPollInterval), and doubles it back once they fill less than an
// eighth: coalescing never costs a datagram.
type batchReader struct {
	sock     batchSocket
	coalesce time.Duration // 0: never poll
	interval time.Duration // the sleep now: coalesce, or less while the buffer fills
	taken    int           // datagrams read since the last sleep
	arrival  time.Time     // the kernel's receive time of the datagram returned last

	next, count int  // the last recv's datagrams not returned yet
	drained     bool // the last recv took everything queued

	polling     bool
	empty       int       // polls in a row that found nothing
	windowStart time.Time // while waiting: arrivals counted since
	windowCount int

	reads     atomic.Uint64 // recv calls that returned datagrams
	datagrams atomic.Uint64
	waits     atomic.Uint64
	polls     atomic.Uint64
}

// ReadStats are a batched Conn's reading totals.
type ReadStats struct {
	// Reads counts the system calls that returned datagrams.
	Reads uint64
	// Datagrams counts the datagrams they returned.
	Datagrams uint64
	// Waits counts the times the reader waited for the socket instead of
	// polling it.
	Waits uint64
	// Polls counts the coalescing intervals the reader slept.
	Polls uint64
}

// AttachBatched is Attach for a socket with heavy traffic, such as the
// SFU's shared media socket: where the system allows (Linux), the Conn
// takes conn's socket out of Go's network poller (conn itself is
// closed) and reads it in batches with recvmmsg, coalescing arrivals
// for up to coalesce while traffic is heavy (see batchReader); 0 reads
// in batches without coalescing. Elsewhere it is Attach.
//
// A batched Conn ignores write deadlines (sends block only while the
// kernel's buffer is full) and has no UDP socket to return.
func (s *Switch) AttachBatched(conn *net.UDPConn, coalesce time.Duration) (*Conn, error) {
	if coalesce < 0 {
		return nil, fmt.Errorf("memudp: negative coalescing interval %v", coalesce)
	}
	c, err := s.Attach(conn)
	if err != nil {
		return nil, err
	}
	sock, err := newRawSocket(conn)
	if err != nil {
		if errors.Is(err, errors.ErrUnsupported) {
			return c, nil
		}
		if s != nil {
			s.detach(c)
		}
		return nil, err
	}
	c.batch = &batchReader{sock: sock, coalesce: coalesce, interval: coalesce, windowStart: time.Now()}
	return c, nil
}

// Arrival is when the datagram the reader returned (or handed to the
// tap) last came, for a Conn attached with AttachBatched: the kernel's
// receive time (Linux), or the time it was handed over in memory; zero
// for other Conns. A coalescing reader takes datagrams up to an interval
// after they came: arrival times that matter, such as those of
// congestion feedback, are to be taken from here. Only the reader may
// call it.
func (c *Conn) Arrival() time.Time {
	if c.batch == nil {
		return time.Time{}
	}
	return c.batch.arrival
}

// ReadStats returns the reading totals of a batched Conn (zero for
// others).
func (c *Conn) ReadStats() ReadStats {
	r := c.batch
	if r == nil {
		return ReadStats{}
	}
	return ReadStats{Reads: r.reads.Load(), Datagrams: r.datagrams.Load(), Waits: r.waits.Load(), Polls: r.polls.Load()}
}

// readBatched is readOne for a batched Conn.
func (c *Conn) readBatched(b []byte) (int, netip.AddrPort, error) {
	r := c.batch
	for {
		if n, from, ok := c.popInto(b); ok {
			return n, from, nil
		}
		if r.next < r.count {
			p, from, at := r.sock.datagram(r.next)
			r.next++
			r.arrival = at
			return copy(b, p), from, nil
		}
		if r.polling && r.drained {
			r.rest()
		}
		got, err := r.sock.recv()
		if err != nil {
			return 0, netip.AddrPort{}, err
		}
		r.next, r.count, r.drained = 0, got, got < r.sock.batchSize()
		r.observe(got)
		if got > 0 {
			continue
		}
		if c.deadlinePassed() {
			return 0, netip.AddrPort{}, &net.OpError{Op: "read", Net: "udp", Err: os.ErrDeadlineExceeded}
		}
		if r.polling {
			continue
		}
		if err := c.waitBatched(); err != nil {
			return 0, netip.AddrPort{}, err
		}
	}
}

// waitBatched waits for the socket, a datagram handed over in memory or
// the caller's deadline.
func (c *Conn) waitBatched() error {
	c.waiting.Store(true)
	defer c.waiting.Store(false)
	if c.inbox.count.Load() > 0 {
		return nil
	}
	c.batch.waits.Add(1)
	var deadline time.Time
	if ns := c.deadline.Load(); ns != 0 {
		deadline = time.Unix(0, ns)
	}
	return c.batch.sock.wait(deadline)
}

// observe switches between waiting and polling after a recv that
// returned got datagrams.
func (r *batchReader) observe(got int) {
	if got > 0 {
		r.reads.Add(1)
		r.datagrams.Add(uint64(got))
		r.taken += got
	}
	if r.coalesce <= 0 {
		return
	}
	if r.polling {
		if got > 0 {
			r.empty = 0
			return
		}
		if r.empty++; r.empty >= 2 {
			r.polling = false
			r.windowStart, r.windowCount = time.Now(), 0
		}
		return
	}
	r.windowCount += got
	now := time.Now()
	if span := now.Sub(r.windowStart); span >= pollWindows*r.coalesce {
		if r.windowCount >= 2*int(span/r.coalesce) {
			r.polling, r.empty = true, 0
		}
		r.windowStart, r.windowCount = now, 0
	}
}

// minPollInterval is the shortest sleep of a polling reader: at heavier
// traffic than that fills half a socket's buffer, the reader seldom finds
// the socket drained and sleeps little anyway.
const minPollInterval = 250 * time.Microsecond

// rest sleeps until the next multiple of the reader's interval on the
// clock, after fitting the interval to the traffic.
func (r *batchReader) rest() {
	r.polls.Add(1)
	limit := r.sock.queueLimit()
	switch {
	case r.taken > limit/2 && r.interval > minPollInterval:
		r.interval = max(r.interval/2, minPollInterval)
	case r.taken < limit/8 && r.interval < r.coalesce:
		r.interval = min(r.interval*2, r.coalesce)
	}
	r.taken = 0
	step := int64(r.interval)
	time.Sleep(time.Duration(step - time.Now().UnixNano()%step))
}
