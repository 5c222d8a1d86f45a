//go:build !linux

package memudp

import (
	"errors"
	"net"
)

// newRawSocket is Linux only: elsewhere a batched Conn reads through
// Go's poller, one datagram at a time.
func newRawSocket(*net.UDPConn) (batchSocket, error) {
	return nil, errors.ErrUnsupported
}
