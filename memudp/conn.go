package memudp

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// longAgo is a read deadline in the past: setting it wakes a blocked
// read at once.
var longAgo = time.Unix(1, 0)

// Conn is a UDP socket attached to a Switch (see the package doc). It
// implements net.PacketConn and pion/ice's allocation-free
// AddrPortReaderWriter. One goroutine reads it at a time; writes may come
// from any number.
type Conn struct {
	udp       *net.UDPConn // closed when batch is set
	localAddr net.Addr
	io        *socketIO      // reads and writes udp (unless batch is set)
	sw        *Switch        // nil: the socket only
	local     netip.AddrPort // the address others reach it at; zero when sw is nil
	batch     *batchReader   // set by AttachBatched: the socket is read in batches

	inbox inbox
	// waiting is set while a reader may be blocked in the socket's read:
	// the writer that clears it wakes the reader with a past deadline.
	waiting atomic.Bool
	// deadline is the read deadline the caller set (Unix nanoseconds; 0
	// none), which the reader restores after a wake-up.
	deadline atomic.Int64

	closeOnce sync.Once
	closeErr  error

	tap atomic.Pointer[Tap]
}

// Tap sees every datagram a Conn's reader receives before the reader
// does; it returns true when it consumed the datagram, which the reader
// then never returns. It runs on the reader's goroutine, must not keep b
// and must not block.
type Tap func(b []byte, from netip.AddrPort) bool

// SetTap installs t (nil removes the tap). Datagrams read from now on
// pass through it.
func (c *Conn) SetTap(t Tap) {
	if t == nil {
		c.tap.Store(nil)
		return
	}
	c.tap.Store(&t)
}

// ReadFromAddrPort returns the next datagram, handed over in memory or
// read from the socket, whichever comes first, that the tap (if any) did
// not consume.
func (c *Conn) ReadFromAddrPort(b []byte) (int, netip.AddrPort, error) {
	for {
		n, from, err := c.readOne(b)
		if err == nil {
			if t := c.tap.Load(); t != nil && (*t)(b[:n], from) {
				continue
			}
		}
		return n, from, err
	}
}

// readOne returns the next datagram.
func (c *Conn) readOne(b []byte) (int, netip.AddrPort, error) {
	if c.batch != nil {
		return c.readBatched(b)
	}
	for {
		if n, from, ok := c.popInto(b); ok {
			return n, from, nil
		}
		c.waiting.Store(true)
		if n, from, ok := c.popInto(b); ok {
			c.settle(!c.waiting.Swap(false))
			return n, from, nil
		}
		n, from, err := c.io.read(b)
		woken := !c.waiting.Swap(false)
		if err != nil && errors.Is(err, os.ErrDeadlineExceeded) && !c.deadlinePassed() {
			// A wake-up (now or one that came late): take up the caller's
			// deadline again and look at the inbox.
			c.settle(true)
			continue
		}
		c.settle(woken)
		return n, canonical(from), err
	}
}

// popInto copies the oldest datagram in the inbox into b (truncating it,
// as a socket read does).
func (c *Conn) popInto(b []byte) (int, netip.AddrPort, bool) {
	d, ok := c.inbox.pop()
	if !ok {
		return 0, netip.AddrPort{}, false
	}
	n := copy(b, *d.buf)
	c.sw.release(d.buf)
	if c.batch != nil {
		c.batch.arrival = d.at
	}
	return n, d.from, true
}

// settle restores the caller's read deadline when a writer woke the
// reader (or may have: a wake-up that lands after this shows up as one
// more deadline error, which the reader treats alike).
func (c *Conn) settle(woken bool) {
	if !woken {
		return
	}
	var t time.Time
	if ns := c.deadline.Load(); ns != 0 {
		t = time.Unix(0, ns)
	}
	_ = c.udp.SetReadDeadline(t)
}

func (c *Conn) deadlinePassed() bool {
	ns := c.deadline.Load()
	return ns != 0 && time.Now().UnixNano() >= ns
}

// deliver queues a copy of p, sent by from, and wakes the reader.
func (c *Conn) deliver(p []byte, from netip.AddrPort) {
	buf := c.sw.buffer(p)
	d := datagram{buf: buf, from: from}
	if c.batch != nil {
		d.at = time.Now() // a coalescing reader may take it an interval later
	}
	if !c.inbox.push(d) {
		c.sw.release(buf)
		c.sw.dropped.Add(1)
		return
	}
	c.sw.handed.Add(1)
	if c.waiting.CompareAndSwap(true, false) {
		if c.batch != nil {
			c.batch.sock.wake()
			return
		}
		_ = c.udp.SetReadDeadline(longAgo)
	}
}

// WriteToAddrPort sends b to addr: in memory when a Conn of the same
// Switch and address family is attached there, else through the socket.
func (c *Conn) WriteToAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	if dst := c.sw.lookup(addr); dst != nil && dst != c && dst.local.Addr().Is4() == c.local.Addr().Is4() {
		dst.deliver(b, c.local)
		return len(b), nil
	}
	if c.batch != nil {
		return c.batch.sock.writeTo(b, addr)
	}
	return c.io.write(b, addr)
}

// WriteToUDPAddrPort is WriteToAddrPort under *net.UDPConn's name.
func (c *Conn) WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	return c.WriteToAddrPort(b, addr)
}

// ReadFrom implements net.PacketConn.
func (c *Conn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, from, err := c.ReadFromAddrPort(b)
	if err != nil {
		return n, nil, err
	}
	return n, net.UDPAddrFromAddrPort(from), nil
}

// WriteTo implements net.PacketConn.
func (c *Conn) WriteTo(b []byte, addr net.Addr) (int, error) {
	udpAddr, ok := addr.(*net.UDPAddr)
	if !ok {
		return 0, &net.OpError{Op: "write", Net: "udp", Source: c.localAddr, Addr: addr, Err: syscall.EINVAL}
	}
	return c.WriteToAddrPort(b, udpAddr.AddrPort())
}

// LocalAddr implements net.PacketConn.
func (c *Conn) LocalAddr() net.Addr { return c.localAddr }

// SetDeadline implements net.PacketConn.
func (c *Conn) SetDeadline(t time.Time) error {
	if err := c.SetReadDeadline(t); err != nil {
		return err
	}
	return c.SetWriteDeadline(t)
}

// SetReadDeadline implements net.PacketConn. A datagram handed over in
// memory is returned even after the deadline, as one the kernel holds.
func (c *Conn) SetReadDeadline(t time.Time) error {
	var ns int64
	if !t.IsZero() {
		ns = t.UnixNano()
	}
	c.deadline.Store(ns)
	if c.batch != nil {
		c.batch.sock.wake()
		return nil
	}
	return c.udp.SetReadDeadline(t)
}

// SetWriteDeadline implements net.PacketConn; datagrams handed over in
// memory never block, and a batched Conn ignores it.
func (c *Conn) SetWriteDeadline(t time.Time) error {
	if c.batch != nil {
		return nil
	}
	return c.udp.SetWriteDeadline(t)
}

// UDP returns the socket under c, for options such as buffer sizes; nil
// for a Conn reading in batches.
func (c *Conn) UDP() *net.UDPConn {
	if c.batch != nil {
		return nil
	}
	return c.udp
}

// Close detaches c from its Switch, drops the datagrams waiting for it
// and closes the socket. It is idempotent.
func (c *Conn) Close() error {
	c.closeOnce.Do(func() {
		if c.sw != nil {
			c.sw.detach(c)
			for _, d := range c.inbox.close() {
				c.sw.release(d.buf)
			}
		}
		if c.batch != nil {
			c.closeErr = c.batch.sock.close()
			return
		}
		c.closeErr = c.udp.Close()
	})
	return c.closeErr
}
