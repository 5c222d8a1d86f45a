package ingestbench

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync/atomic"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
	"golang.org/x/net/ipv4"
)

// floorProfile is the SRTP profile of the floor: the one pion peers
// agree on first, so kiroku's (see floorProfile in bench/sfu).
const floorProfile = srtp.ProtectionProfileAeadAes256Gcm

// floorBatch is how many datagrams one recvmmsg call may return.
const floorBatch = 64

// floorCounts is what the floor receiver has taken in.
type floorCounts struct {
	packets atomic.Uint64 // RTP packets decrypted
	failed  atomic.Uint64 // datagrams that did not decrypt
}

// runFloorReceiver is the floor's server, run as a process of its own
// in the servers' namespace: it reads the socket at addr in batches and
// SRTP-decrypts every datagram with key (master key and salt) on one
// thread, one SRTP context per sender address, as a server keeps one
// per connection. It says "ready ADDRESS" on out, then answers each line
// on control with "PACKETS FAILED"; the end of control ends it.
func runFloorReceiver(addr string, key []byte, control io.Reader, out io.Writer) error {
	conn, err := net.ListenPacket("udp4", addr)
	if err != nil {
		return fmt.Errorf("floor: listen: %w", err)
	}
	if err := prepareFloorSocket(conn.(*net.UDPConn)); err != nil {
		return errors.Join(err, conn.Close())
	}
	var n floorCounts
	done := make(chan error, 1)
	go func() { done <- receiveLoop(ipv4.NewPacketConn(conn), key, &n) }()
	if _, err := fmt.Fprintln(out, "ready", conn.LocalAddr()); err != nil {
		return errors.Join(fmt.Errorf("floor: %w", err), conn.Close())
	}
	lines := bufio.NewScanner(control)
	for lines.Scan() {
		if _, err := fmt.Fprintf(out, "%d %d\n", n.packets.Load(), n.failed.Load()); err != nil {
			break
		}
	}
	err = conn.Close()
	if loopErr := <-done; !errors.Is(loopErr, net.ErrClosed) {
		err = errors.Join(err, loopErr)
	}
	return err
}

// receiveLoop is the measured loop: batched reads (recvmmsg, as many
// datagrams as are queued, up to floorBatch) and in-place SRTP
// decryption, one goroutine doing all of it.
func receiveLoop(conn *ipv4.PacketConn, key []byte, n *floorCounts) error {
	msgs := make([]ipv4.Message, floorBatch)
	for i := range msgs {
		msgs[i].Buffers = [][]byte{make([]byte, 1500)}
	}
	contexts := map[netip.AddrPort]*srtp.Context{}
	var h rtp.Header
	for {
		got, err := conn.ReadBatch(msgs, 0)
		if err != nil {
			return fmt.Errorf("floor: read: %w", err)
		}
		for _, m := range msgs[:got] {
			from := m.Addr.(*net.UDPAddr).AddrPort()
			ctx := contexts[from]
			if ctx == nil {
				if ctx, err = newSRTPContext(key); err != nil {
					return err
				}
				contexts[from] = ctx
			}
			buf := m.Buffers[0][:m.N]
			if _, err := ctx.DecryptRTP(buf, buf, &h); err != nil {
				n.failed.Add(1)
				continue
			}
			n.packets.Add(1)
		}
	}
}

// newSRTPContext is an SRTP context of floorProfile with key (master key
// followed by master salt).
func newSRTPContext(key []byte) (*srtp.Context, error) {
	keyLen, err := floorProfile.KeyLen()
	if err != nil {
		return nil, fmt.Errorf("floor: srtp key length: %w", err)
	}
	saltLen, err := floorProfile.SaltLen()
	if err != nil {
		return nil, fmt.Errorf("floor: srtp salt length: %w", err)
	}
	if len(key) != keyLen+saltLen {
		return nil, fmt.Errorf("floor: srtp key of %d bytes, want %d", len(key), keyLen+saltLen)
	}
	ctx, err := srtp.CreateContext(key[:keyLen], key[keyLen:], floorProfile)
	if err != nil {
		return nil, fmt.Errorf("floor: srtp context: %w", err)
	}
	return ctx, nil
}

// floorBufferBytes is the receive buffer the floor asks for, as a server
// does so that bursts of keyframes are not dropped.
const floorBufferBytes = 4 << 20

// prepareFloorSocket sizes the receive buffer. The socket stays as Go
// makes it: a read with nothing queued parks on Go's poller, as a Go
// server's reads do.
func prepareFloorSocket(conn *net.UDPConn) error {
	if err := conn.SetReadBuffer(floorBufferBytes); err != nil {
		return fmt.Errorf("floor: receive buffer: %w", err)
	}
	return nil
}
