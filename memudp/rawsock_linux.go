//go:build linux

package memudp

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Batches: how many datagrams one recvmmsg may return, and the buffer
// each gets (pion's UDP mux reads 8 KiB; WebRTC datagrams stay under the
// path MTU).
const (
	rawBatch      = 16
	rawBufferSize = 8192
)

// oobSize fits one control message holding a struct timespec.
const oobSize = 64

// datagramTruesize is what one queued media datagram (up to about 1,500
// bytes) costs against a socket's receive buffer: the kernel counts the
// buffer it allocated, not the payload.
const datagramTruesize = 2304

// mmsghdr is struct mmsghdr: a message header and the length received
// (Go pads it to the header's alignment, as C does).
type mmsghdr struct {
	hdr unix.Msghdr
	len uint32
}

// rawSocket is a UDP socket kept out of Go's network poller, so that a
// datagram arriving while nobody reads wakes no thread: Go's poller would
// wake one for every datagram, even while the reader sleeps on purpose.
// Its reader waits with ppoll only when it chooses to.
//
// recvmmsg and sendto are made without telling the scheduler (they never
// block: MSG_DONTWAIT), as socketIO's are; ppoll, which blocks, does tell
// it. It is read by one goroutine at a time and written by any number.
type rawSocket struct {
	fd     int // the socket, non-blocking
	wakeFD int // an eventfd that ends the reader's wait
	v6     bool
	queue  int // datagrams the receive buffer holds before the kernel drops

	// use is held shared around every system call on fd and wakeFD and
	// exclusively by close, so that a closed descriptor number, which the
	// kernel may hand out again, is never used.
	use    sync.RWMutex
	closed atomic.Bool

	hdrs  [rawBatch]mmsghdr
	iovs  [rawBatch]unix.Iovec
	names [rawBatch]unix.RawSockaddrInet6
	oobs  [rawBatch][oobSize / 8]uint64 // each datagram's receive timestamp (8-byte aligned)
	bufs  [rawBatch][]byte
	// readWall and readMono are the clock when the last recv returned:
	// a kernel timestamp (wall clock) is turned into a time on Go's
	// monotonic clock by its age at that moment.
	readMono time.Time
	readWall int64
	// waitFDs are the reader's ppoll set (socket, wake-up), kept so that
	// an idle wait allocates nothing.
	waitFDs [2]unix.PollFd

	writers sync.Pool // *sendCall (sockio_linux.go)
}

// newRawSocket takes conn's socket out of Go's poller: it keeps a
// duplicate of the descriptor and closes conn, which removes the socket
// from the poller.
func newRawSocket(conn *net.UDPConn) (batchSocket, error) {
	local, ok := conn.LocalAddr().(*net.UDPAddr)
	if !ok {
		return nil, fmt.Errorf("memudp: batch reads: local address %v is not UDP", conn.LocalAddr())
	}
	fd, err := dupSocket(conn)
	if err != nil {
		return nil, err
	}
	if err := conn.Close(); err != nil {
		_ = unix.Close(fd)
		return nil, fmt.Errorf("memudp: batch reads: %w", err)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		_ = unix.Close(fd)
		return nil, fmt.Errorf("memudp: batch reads: non-blocking mode: %w", err)
	}
	wakeFD, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		_ = unix.Close(fd)
		return nil, fmt.Errorf("memudp: batch reads: eventfd: %w", err)
	}
	// The kernel's receive time of each datagram (SCM_TIMESTAMPNS): the
	// reader may take a datagram an interval after it came. Without it,
	// arrivals are the time of the read.
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1)
	a := local.AddrPort().Addr()
	s := &rawSocket{fd: fd, wakeFD: wakeFD, v6: a.Is6() && !a.Is4In6(), queue: rawBatch}
	if size, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF); err == nil && size/datagramTruesize > s.queue {
		s.queue = size / datagramTruesize
	}
	for i := range s.hdrs {
		s.bufs[i] = make([]byte, rawBufferSize)
		s.iovs[i].Base = &s.bufs[i][0]
		s.iovs[i].SetLen(rawBufferSize)
		s.hdrs[i].hdr.Iov = &s.iovs[i]
		s.hdrs[i].hdr.SetIovlen(1)
		s.hdrs[i].hdr.Name = (*byte)(unsafe.Pointer(&s.names[i]))
		s.hdrs[i].hdr.Control = (*byte)(unsafe.Pointer(&s.oobs[i][0]))
	}
	s.writers.New = func() any {
		c := &sendCall{}
		c.fn = c.sendOnce
		return c
	}
	return s, nil
}

// dupSocket duplicates conn's descriptor (close-on-exec).
func dupSocket(conn *net.UDPConn) (int, error) {
	rc, err := conn.SyscallConn()
	if err != nil {
		return -1, fmt.Errorf("memudp: batch reads: %w", err)
	}
	fd := -1
	var dupErr error
	if err := rc.Control(func(s uintptr) {
		fd, dupErr = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0)
	}); err != nil {
		return -1, fmt.Errorf("memudp: batch reads: %w", err)
	}
	if dupErr != nil {
		return -1, fmt.Errorf("memudp: batch reads: dup: %w", dupErr)
	}
	return fd, nil
}

// recv reads the datagrams queued on the socket, up to a batch, without
// waiting; none queued is (0, nil).
func (s *rawSocket) recv() (int, error) {
	s.use.RLock()
	defer s.use.RUnlock()
	if s.closed.Load() {
		return 0, net.ErrClosed
	}
	for i := range s.hdrs {
		s.hdrs[i].hdr.Namelen = unix.SizeofSockaddrInet6
		s.hdrs[i].hdr.SetControllen(oobSize)
		s.hdrs[i].hdr.Flags = 0
	}
	for {
		n, _, errno := unix.RawSyscall6(unix.SYS_RECVMMSG, uintptr(s.fd), uintptr(unsafe.Pointer(&s.hdrs[0])),
			rawBatch, unix.MSG_DONTWAIT, 0, 0)
		switch errno {
		case 0:
			if n > 0 {
				s.readMono = time.Now()
				s.readWall = s.readMono.UnixNano()
			}
			return int(n), nil
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return 0, nil
		}
		return 0, &net.OpError{Op: "read", Net: "udp", Err: os.NewSyscallError("recvmmsg", errno)}
	}
}

func (s *rawSocket) batchSize() int { return rawBatch }

func (s *rawSocket) queueLimit() int { return s.queue }

// datagram returns the i-th datagram of the last recv (truncated to its
// buffer, as a socket read truncates), its sender and when the kernel
// received it.
func (s *rawSocket) datagram(i int) ([]byte, netip.AddrPort, time.Time) {
	n := min(int(s.hdrs[i].len), rawBufferSize)
	h := &s.hdrs[i].hdr
	oob := unsafe.Slice((*byte)(unsafe.Pointer(&s.oobs[i][0])), oobSize)
	return s.bufs[i][:n], sockaddrAddrPort(&s.names[i]), s.arrival(oob[:min(int(h.Controllen), oobSize)])
}

// arrival reads the receive timestamp in a datagram's control messages
// as a time on Go's monotonic clock: the time of the read less the
// timestamp's age then (no older than a second, never in the future).
// No timestamp gives the time of the read.
func (s *rawSocket) arrival(oob []byte) time.Time {
	wall, ok := receiveTimestamp(oob)
	if !ok {
		return s.readMono
	}
	age := time.Duration(s.readWall - wall)
	return s.readMono.Add(-min(max(age, 0), time.Second))
}

// receiveTimestamp finds an SCM_TIMESTAMPNS control message in oob (as
// the kernel writes it: 8-byte aligned) and returns its time in
// nanoseconds since the epoch.
func receiveTimestamp(oob []byte) (int64, bool) {
	hdrLen := unix.CmsgLen(0)
	for len(oob) >= hdrLen {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[0]))
		size := int(h.Len)
		if size < hdrLen || size > len(oob) {
			return 0, false
		}
		if h.Level == unix.SOL_SOCKET && h.Type == unix.SCM_TIMESTAMPNS && size >= unix.CmsgLen(int(unsafe.Sizeof(unix.Timespec{}))) {
			ts := (*unix.Timespec)(unsafe.Pointer(&oob[hdrLen]))
			return ts.Nano(), true
		}
		next := unix.CmsgSpace(size - hdrLen)
		if next > len(oob) {
			return 0, false
		}
		oob = oob[next:]
	}
	return 0, false
}

// wait blocks until a datagram is queued, wake is called or deadline
// (zero: none) passes; it reports a passed deadline as
// os.ErrDeadlineExceeded.
func (s *rawSocket) wait(deadline time.Time) error {
	s.use.RLock()
	defer s.use.RUnlock()
	fds := s.waitFDs[:]
	fds[0] = unix.PollFd{Fd: int32(s.fd), Events: unix.POLLIN}
	fds[1] = unix.PollFd{Fd: int32(s.wakeFD), Events: unix.POLLIN}
	for {
		if s.closed.Load() {
			return net.ErrClosed
		}
		var timeout *unix.Timespec
		if !deadline.IsZero() {
			left := time.Until(deadline)
			if left <= 0 {
				return &net.OpError{Op: "read", Net: "udp", Err: os.ErrDeadlineExceeded}
			}
			ts := unix.NsecToTimespec(left.Nanoseconds())
			timeout = &ts
		}
		_, err := unix.Ppoll(fds, timeout, nil)
		if err != nil && !errors.Is(err, unix.EINTR) {
			return &net.OpError{Op: "read", Net: "udp", Err: os.NewSyscallError("ppoll", err)}
		}
		if fds[1].Revents != 0 {
			var b [8]byte
			_, _, _ = unix.RawSyscall(unix.SYS_READ, uintptr(s.wakeFD), uintptr(unsafe.Pointer(&b[0])), 8)
			return nil
		}
		if fds[0].Revents != 0 {
			return nil
		}
	}
}

// wake ends the reader's wait (or its next one). Writing an eventfd
// never blocks.
func (s *rawSocket) wake() {
	s.use.RLock()
	defer s.use.RUnlock()
	if s.closed.Load() {
		return
	}
	one := [8]byte{1}
	_, _, _ = unix.RawSyscall(unix.SYS_WRITE, uintptr(s.wakeFD), uintptr(unsafe.Pointer(&one[0])), 8)
}

// writeTo sends b to addr; while the socket's buffer is full it waits
// for room, as a blocking send would.
func (s *rawSocket) writeTo(b []byte, addr netip.AddrPort) (int, error) {
	c := s.writers.Get().(*sendCall)
	defer s.writers.Put(c)
	if err := c.address(addr, s.v6); err != nil {
		return 0, err
	}
	c.buf, c.n, c.err = b, 0, nil
	defer func() { c.buf = nil }()
	s.use.RLock()
	defer s.use.RUnlock()
	for {
		if s.closed.Load() {
			return 0, net.ErrClosed
		}
		if c.sendOnce(uintptr(s.fd)) {
			break
		}
		fds := []unix.PollFd{{Fd: int32(s.fd), Events: unix.POLLOUT}}
		if _, err := unix.Ppoll(fds, &unix.Timespec{Nsec: int64(100 * time.Millisecond)}, nil); err != nil && !errors.Is(err, unix.EINTR) {
			return 0, &net.OpError{Op: "write", Net: "udp", Addr: net.UDPAddrFromAddrPort(addr), Err: os.NewSyscallError("ppoll", err)}
		}
	}
	if c.err != nil {
		if op := (*net.OpError)(nil); errors.As(c.err, &op) && op.Addr == nil {
			op.Addr = net.UDPAddrFromAddrPort(addr)
		}
		return 0, c.err
	}
	return c.n, nil
}

// close wakes the reader and closes the descriptors once no system call
// uses them.
func (s *rawSocket) close() error {
	if s.closed.Swap(true) {
		return nil
	}
	one := [8]byte{1}
	_, _, _ = unix.RawSyscall(unix.SYS_WRITE, uintptr(s.wakeFD), uintptr(unsafe.Pointer(&one[0])), 8)
	s.use.Lock()
	defer s.use.Unlock()
	return errors.Join(unix.Close(s.fd), unix.Close(s.wakeFD))
}
