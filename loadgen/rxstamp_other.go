//go:build !linux

package loadgen

import (
	"net"
	"time"
)

// OOBBytes is the scratch space ReadWithTimestamp needs.
const OOBBytes = 64

// EnableRxTimestamps does nothing outside Linux: receive times are taken
// after the read.
func EnableRxTimestamps(*net.UDPConn) error { return nil }

// ReadWithTimestamp reads one datagram into b and returns the time after
// the read.
func ReadWithTimestamp(conn *net.UDPConn, b, _ []byte, now func() time.Time) (int, *net.UDPAddr, time.Time, error) {
	n, addr, err := conn.ReadFromUDP(b)
	return n, addr, now(), err
}
