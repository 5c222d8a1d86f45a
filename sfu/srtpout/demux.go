package srtpout

import (
	"net/netip"
	"sync"

	"github.com/kiroku-sfu/kiroku/memudp"
)

// Demux routes the datagrams the shared mux sockets read to the Receiver
// of the connection whose selected ICE pair they arrive on, before
// pion's UDP mux sees them. Datagrams of no Receiver, and those a
// Receiver leaves, go on to pion. Its methods are safe for concurrent
// use.
type Demux struct {
	mu sync.RWMutex
	by map[demuxKey]*Receiver
}

// demuxKey is one end of an ICE pair as a socket sees it.
type demuxKey struct {
	conn   *memudp.Conn
	remote netip.AddrPort
}

// NewDemux returns a Demux with no Receivers.
func NewDemux() *Demux { return &Demux{by: make(map[demuxKey]*Receiver)} }

// Tap returns the tap to install on conn, one of the mux sockets.
func (d *Demux) Tap(conn *memudp.Conn) memudp.Tap {
	return func(b []byte, from netip.AddrPort) bool {
		d.mu.RLock()
		r := d.by[demuxKey{conn, from}]
		d.mu.RUnlock()
		return r != nil && r.receive(b, conn.Arrival())
	}
}

// set points k at r, in place of r's previous key old (if any).
func (d *Demux) set(r *Receiver, old *demuxKey, k demuxKey) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if old != nil && d.by[*old] == r {
		delete(d.by, *old)
	}
	d.by[k] = r
}

// remove forgets r's key k.
func (d *Demux) remove(r *Receiver, k demuxKey) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.by[k] == r {
		delete(d.by, k)
	}
}

// len is the number of routed pairs.
func (d *Demux) len() int {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return len(d.by)
}
