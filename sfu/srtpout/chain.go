package srtpout

import (
	"encoding/binary"
	"sync"

	"github.com/pion/interceptor"
)

// The receive side sits at both ends of pion's interceptor chain for each
// remote stream. At the bottom (the Path, first in the registry), a
// packet the Receiver decrypted itself is returned in place of a read
// from pion's SRTP session; at the top (Top, last in the registry), the
// Receiver keeps the whole chain so that it can pull that packet through
// every interceptor (NACK generator, receiver reports, TWCC feedback) in
// its own goroutine, as pion's read loop would.

// pendingKey marks the attributes of a read the Receiver drives; its
// value is the Receiver holding the packet.
type pendingKey struct{}

// ArrivalKey is the interceptor.Attributes key under which the Receiver
// puts, as a *time.Time, when the kernel received the packet being read,
// if the socket's reader knows (memudp.Conn.Arrival): a reader that
// coalesces takes packets up to an interval after they came, and
// congestion feedback must report when they came. The value is valid
// only during the read.
type ArrivalKey struct{}

// headerAttributeKey returns the key under which interceptor.Attributes
// keeps the RTP header GetRTPHeader parsed, found by asking it to parse
// one: pion does not export it. With it the Receiver hands every
// interceptor of a chain the header it parsed itself, where each would
// otherwise parse the packet again. nil if pion keeps headers otherwise.
func headerAttributeKey() any {
	a := interceptor.Attributes{}
	minimal := []byte{0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1}
	if _, err := a.GetRTPHeader(minimal); err != nil || len(a) != 1 {
		return nil
	}
	for k := range a {
		return k
	}
	return nil
}

// bottomReader is the bottom of one remote stream's chain.
type bottomReader struct {
	next interceptor.RTPReader // pion's SRTP read stream
}

// Read returns the Receiver's pending packet when the read is the
// Receiver's, and reads pion's stream otherwise.
func (b *bottomReader) Read(buf []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
	if a != nil {
		if r, ok := a[pendingKey{}].(*Receiver); ok {
			if len(buf) > 0 && len(r.pending) > 0 && &buf[0] == &r.pending[0] {
				return min(len(buf), len(r.pending)), a, nil // read in place
			}
			return copy(buf, r.pending), a, nil
		}
	}
	return b.next.Read(buf, a)
}

// BindRemoteStream implements interceptor.Interceptor: the Path is the
// bottom of every remote stream's chain.
func (p *Path) BindRemoteStream(_ *interceptor.StreamInfo, reader interceptor.RTPReader) interceptor.RTPReader {
	if p.recv == nil {
		return reader
	}
	return &bottomReader{next: reader}
}

// Top returns the interceptor factory to add last to the connection's
// registry, above every interceptor that reads remote streams. Without
// EnableReceive it adds nothing.
func (p *Path) Top() interceptor.Factory { return topFactory{p.recv} }

type topFactory struct{ recv *Receiver }

// NewInterceptor implements interceptor.Factory.
func (f topFactory) NewInterceptor(string) (interceptor.Interceptor, error) {
	return &top{recv: f.recv}, nil
}

// top keeps the chain of each remote stream pion binds.
type top struct {
	interceptor.NoOp
	recv *Receiver
}

// BindRemoteStream implements interceptor.Interceptor.
func (t *top) BindRemoteStream(info *interceptor.StreamInfo, reader interceptor.RTPReader) interceptor.RTPReader {
	if t.recv == nil {
		return reader
	}
	c := &chain{reader: reader}
	t.recv.bound(info.SSRC, c)
	return c
}

// UnbindRemoteStream implements interceptor.Interceptor.
func (t *top) UnbindRemoteStream(info *interceptor.StreamInfo) {
	if t.recv != nil {
		t.recv.unbound(info.SSRC)
	}
}

// chain is one remote stream's interceptor chain. Reads through it (pion's
// path) note the sequence numbers, so that a stream taken over later
// starts with the rollover counter pion's session had reached.
type chain struct {
	reader interceptor.RTPReader

	mu  sync.Mutex
	seq extSeq
}

// Read implements interceptor.RTPReader for pion's read loop.
func (c *chain) Read(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
	n, a, err := c.reader.Read(b, a)
	if err == nil && n >= 4 {
		c.mu.Lock()
		c.seq.update(binary.BigEndian.Uint16(b[2:4]))
		c.mu.Unlock()
	}
	return n, a, err
}

// rocFor is the rollover counter of a packet with sequence number seq,
// judged from the packets read so far.
func (c *chain) rocFor(seq uint16) uint32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.seq.rocFor(seq)
}

// extSeq follows a stream's sequence numbers across wraps.
type extSeq struct {
	last uint16
	roc  uint32
	seen bool
}

// update notes seq; older packets change nothing.
func (e *extSeq) update(seq uint16) {
	if !e.seen {
		e.last, e.seen = seq, true
		return
	}
	if d := int16(seq - e.last); d > 0 {
		if seq < e.last {
			e.roc++
		}
		e.last = seq
	}
}

// rocFor is the rollover counter seq most likely belongs to.
func (e *extSeq) rocFor(seq uint16) uint32 {
	if !e.seen {
		return 0
	}
	d := int16(seq - e.last)
	switch {
	case d > 0 && seq < e.last:
		return e.roc + 1
	case d < 0 && seq > e.last && e.roc > 0:
		return e.roc - 1
	}
	return e.roc
}
