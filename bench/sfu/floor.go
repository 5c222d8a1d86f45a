package sfubench

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"runtime"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

// floorProfile is the SRTP profile pion peers agree on first (and so the
// one the SFU uses towards the load generator).
const floorProfile = srtp.ProtectionProfileAeadAes256Gcm

// floorResult is the cost of the floor loop.
type floorResult struct {
	Packets uint64
	CPU     time.Duration // CPU time of the sending thread
}

// PerPacket is the CPU time per packet.
func (f floorResult) PerPacket() time.Duration {
	if f.Packets == 0 {
		return 0
	}
	return f.CPU / time.Duration(f.Packets)
}

// measureFloor SRTP-encrypts and sends packets of payloadBytes from local
// to a socket on remote as fast as one thread can for d, and returns the
// sending thread's CPU time. A goroutine drains the receiving socket so
// the kernel path is the one a real peer sees.
func measureFloor(local, remote string, payloadBytes int, d time.Duration) (floorResult, error) {
	rx, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(remote)})
	if err != nil {
		return floorResult{}, fmt.Errorf("floor: listen: %w", err)
	}
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		buf := make([]byte, 2048)
		for {
			if _, err := rx.Read(buf); err != nil {
				return
			}
		}
	}()
	tx, err := net.DialUDP("udp4", &net.UDPAddr{IP: net.ParseIP(local)}, rx.LocalAddr().(*net.UDPAddr))
	if err == nil {
		var res floorResult
		res, err = sendLoop(tx, payloadBytes, d)
		err = errors.Join(err, tx.Close(), rx.Close())
		<-drained
		return res, err
	}
	err = errors.Join(fmt.Errorf("floor: dial: %w", err), rx.Close())
	<-drained
	return floorResult{}, err
}

// sendLoop is the measured loop; it holds its OS thread so the thread's
// CPU time is the loop's.
func sendLoop(conn *net.UDPConn, payloadBytes int, d time.Duration) (floorResult, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	ctx, err := newSRTPContext()
	if err != nil {
		return floorResult{}, err
	}
	h := rtp.Header{Version: 2, PayloadType: 96, SSRC: 0x4b52, Marker: true}
	plain := make([]byte, h.MarshalSize()+payloadBytes)
	cipher := make([]byte, 0, len(plain)+64)
	start, err := threadCPU()
	if err != nil {
		return floorResult{}, err
	}
	var res floorResult
	for deadline := time.Now().Add(d); time.Now().Before(deadline); {
		for range 64 { // amortise the clock read
			h.SequenceNumber++
			h.Timestamp += 3000
			if _, err := h.MarshalTo(plain); err != nil {
				return res, fmt.Errorf("floor: marshal: %w", err)
			}
			out, err := ctx.EncryptRTP(cipher[:0], plain, &h)
			if err != nil {
				return res, fmt.Errorf("floor: encrypt: %w", err)
			}
			// A full socket buffer may refuse a datagram; it still cost
			// a system call, as it would for the SFU.
			_, _ = conn.Write(out)
			res.Packets++
		}
	}
	end, err := threadCPU()
	res.CPU = end - start
	return res, err
}

func newSRTPContext() (*srtp.Context, error) {
	keyLen, err := floorProfile.KeyLen()
	if err != nil {
		return nil, fmt.Errorf("floor: srtp key length: %w", err)
	}
	saltLen, err := floorProfile.SaltLen()
	if err != nil {
		return nil, fmt.Errorf("floor: srtp salt length: %w", err)
	}
	key := make([]byte, keyLen+saltLen)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("floor: srtp key: %w", err)
	}
	ctx, err := srtp.CreateContext(key[:keyLen], key[keyLen:], floorProfile)
	if err != nil {
		return nil, fmt.Errorf("floor: srtp context: %w", err)
	}
	return ctx, nil
}
