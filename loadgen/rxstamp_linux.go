package loadgen

import (
	"net"
	"syscall"
	"time"
	"unsafe"
)

// OOBBytes is the scratch space ReadWithTimestamp needs: one
// SCM_TIMESTAMPNS control message.
const OOBBytes = 64

// EnableRxTimestamps asks the kernel to record when each datagram reaches
// conn (SO_TIMESTAMPNS), for ReadWithTimestamp. Receive times taken by a
// reader after its read returns include the reader's own scheduling: on a
// machine the generator shares with the SFU, that is the generator's
// delay, not the SFU's.
func EnableRxTimestamps(conn *net.UDPConn) error {
	rc, err := conn.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1)
	}); err != nil {
		return err
	}
	return serr
}

// ReadWithTimestamp reads one datagram into b and returns when the kernel
// received it, or the time after the read when the kernel gave none.
// oob is scratch space of at least OOBBytes.
func ReadWithTimestamp(conn *net.UDPConn, b, oob []byte, now func() time.Time) (int, *net.UDPAddr, time.Time, error) {
	n, oobn, _, addr, err := conn.ReadMsgUDP(b, oob)
	if err != nil {
		return n, addr, time.Time{}, err
	}
	if at, ok := parseRxTimestamp(oob[:oobn]); ok {
		return n, addr, at, nil
	}
	return n, addr, now(), nil
}

// parseRxTimestamp finds an SCM_TIMESTAMPNS control message.
func parseRxTimestamp(oob []byte) (time.Time, bool) {
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return time.Time{}, false
	}
	for _, m := range msgs {
		if m.Header.Level == syscall.SOL_SOCKET && m.Header.Type == syscall.SCM_TIMESTAMPNS &&
			len(m.Data) >= int(unsafe.Sizeof(syscall.Timespec{})) {
			var ts syscall.Timespec
			copy((*[unsafe.Sizeof(ts)]byte)(unsafe.Pointer(&ts))[:], m.Data)
			return time.Unix(ts.Unix()), true
		}
	}
	return time.Time{}, false
}
