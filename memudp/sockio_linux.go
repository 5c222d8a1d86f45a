//go:build linux

package memudp

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// socketIO reads and writes a Conn's socket through Go's poller, as
// *net.UDPConn does, but makes the recvfrom and sendto calls themselves
// without telling the scheduler (they never block: MSG_DONTWAIT).
//
// A Go system call that tells the scheduler wakes the runtime's monitor
// thread (sysmon) when the process was idle; the monitor then polls every
// 20 µs until the process is idle again. A media socket that is read a few
// thousand times a second in short bursts woke it at nearly every burst:
// in bench/ingest that monitor was half of kiroku's thread wake-ups. A
// call that cannot block has nothing for the monitor to watch.
type socketIO struct {
	rc syscall.RawConn
	v6 bool // the socket is IPv6: destinations are written as sockaddr_in6

	// The reader's call, reused: one goroutine reads at a time.
	readBuf  []byte
	readN    int
	readFrom unix.RawSockaddrInet6
	readErr  error
	readFn   func(fd uintptr) bool

	writers sync.Pool // *sendCall
}

// sendCall is one write's call, pooled with its function value.
type sendCall struct {
	buf     []byte
	name    unsafe.Pointer
	nameLen uintptr
	sa4     unix.RawSockaddrInet4
	sa6     unix.RawSockaddrInet6
	n       int
	err     error
	fn      func(fd uintptr) bool
}

// newSocketIO prepares raw calls on conn's socket.
func newSocketIO(conn *net.UDPConn) (*socketIO, error) {
	rc, err := conn.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("memudp: %w", err)
	}
	local, ok := conn.LocalAddr().(*net.UDPAddr)
	if !ok {
		return nil, fmt.Errorf("memudp: local address %v is not UDP", conn.LocalAddr())
	}
	a := local.AddrPort().Addr()
	s := &socketIO{rc: rc, v6: a.Is6() && !a.Is4In6()}
	s.readFn = s.recvOnce
	s.writers.New = func() any {
		c := &sendCall{}
		c.fn = c.sendOnce
		return c
	}
	return s, nil
}

// read receives one datagram into b (truncated to b, as a socket read
// does), waiting on Go's poller while none is queued.
func (s *socketIO) read(b []byte) (int, netip.AddrPort, error) {
	s.readBuf, s.readErr = b, nil
	err := s.rc.Read(s.readFn)
	s.readBuf = nil
	if err == nil {
		err = s.readErr
	}
	if err != nil {
		return 0, netip.AddrPort{}, err
	}
	return s.readN, sockaddrAddrPort(&s.readFrom), nil
}

// recvOnce is one recvfrom; false asks the poller to wait.
func (s *socketIO) recvOnce(fd uintptr) bool {
	var p unsafe.Pointer
	if len(s.readBuf) > 0 {
		p = unsafe.Pointer(&s.readBuf[0])
	}
	for {
		fromLen := uint32(unix.SizeofSockaddrInet6)
		n, _, errno := unix.RawSyscall6(unix.SYS_RECVFROM, fd, uintptr(p), uintptr(len(s.readBuf)),
			unix.MSG_DONTWAIT, uintptr(unsafe.Pointer(&s.readFrom)), uintptr(unsafe.Pointer(&fromLen)))
		switch errno {
		case 0:
			s.readN = int(n)
			return true
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false
		}
		s.readErr = &net.OpError{Op: "read", Net: "udp", Err: os.NewSyscallError("recvfrom", errno)}
		return true
	}
}

// write sends b to addr, waiting on Go's poller while the socket's
// buffer is full.
func (s *socketIO) write(b []byte, addr netip.AddrPort) (int, error) {
	c := s.writers.Get().(*sendCall)
	defer s.writers.Put(c)
	if err := c.address(addr, s.v6); err != nil {
		return 0, err
	}
	c.buf, c.n, c.err = b, 0, nil
	err := s.rc.Write(c.fn)
	c.buf = nil
	if err == nil {
		err = c.err
	}
	if err != nil {
		if op := (*net.OpError)(nil); errors.As(err, &op) && op.Addr == nil {
			op.Addr = net.UDPAddrFromAddrPort(addr)
		}
		return 0, err
	}
	return c.n, nil
}

// address sets the call's destination.
func (c *sendCall) address(addr netip.AddrPort, v6 bool) error {
	a := addr.Addr()
	switch {
	case v6:
		c.sa6 = unix.RawSockaddrInet6{Family: unix.AF_INET6, Addr: a.As16(), Scope_id: scopeID(a)}
		setNetworkPort(&c.sa6.Port, addr.Port())
		c.name, c.nameLen = unsafe.Pointer(&c.sa6), unix.SizeofSockaddrInet6
	case a.Is4() || a.Is4In6():
		c.sa4 = unix.RawSockaddrInet4{Family: unix.AF_INET, Addr: a.Unmap().As4()}
		setNetworkPort(&c.sa4.Port, addr.Port())
		c.name, c.nameLen = unsafe.Pointer(&c.sa4), unix.SizeofSockaddrInet4
	default:
		return &net.OpError{Op: "write", Net: "udp", Addr: net.UDPAddrFromAddrPort(addr),
			Err: &net.AddrError{Err: "non-IPv4 address", Addr: a.String()}}
	}
	return nil
}

// scopeID is the interface index a zone names: an index itself, as read
// from the socket, or an interface's name.
func scopeID(a netip.Addr) uint32 {
	zone := a.Zone()
	if zone == "" {
		return 0
	}
	if n, err := strconv.ParseUint(zone, 10, 32); err == nil {
		return uint32(n)
	}
	if ifi, err := net.InterfaceByName(zone); err == nil {
		return uint32(ifi.Index)
	}
	return 0
}

// sendOnce is one sendto; false asks the poller to wait.
func (c *sendCall) sendOnce(fd uintptr) bool {
	var p unsafe.Pointer
	if len(c.buf) > 0 {
		p = unsafe.Pointer(&c.buf[0])
	}
	for {
		n, _, errno := unix.RawSyscall6(unix.SYS_SENDTO, fd, uintptr(p), uintptr(len(c.buf)),
			unix.MSG_DONTWAIT, uintptr(c.name), c.nameLen)
		switch errno {
		case 0:
			c.n = int(n)
			return true
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false
		}
		c.err = &net.OpError{Op: "write", Net: "udp", Err: os.NewSyscallError("sendto", errno)}
		return true
	}
}

// sockaddrAddrPort decodes a sockaddr_in or sockaddr_in6 (IPv4-mapped
// addresses unmapped, as Conn reports them).
func sockaddrAddrPort(sa *unix.RawSockaddrInet6) netip.AddrPort {
	switch sa.Family {
	case unix.AF_INET:
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		return netip.AddrPortFrom(netip.AddrFrom4(sa4.Addr), networkPort(sa4.Port))
	case unix.AF_INET6:
		a := netip.AddrFrom16(sa.Addr).Unmap()
		if sa.Scope_id != 0 && a.Is6() {
			// The interface's index, as a zone: looking its name up
			// would cost a system call per datagram.
			a = a.WithZone(strconv.FormatUint(uint64(sa.Scope_id), 10))
		}
		return netip.AddrPortFrom(a, networkPort(sa.Port))
	}
	return netip.AddrPort{}
}

// networkPort reads a port stored in network byte order.
func networkPort(p uint16) uint16 {
	b := (*[2]byte)(unsafe.Pointer(&p))
	return uint16(b[0])<<8 | uint16(b[1])
}

// setNetworkPort stores port in network byte order.
func setNetworkPort(dst *uint16, port uint16) {
	b := (*[2]byte)(unsafe.Pointer(dst))
	b[0], b[1] = byte(port>>8), byte(port)
}
