package sfubench

import (
	"errors"
	"fmt"
	"net"
	"runtime"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

// measureFanoutFloor is the floor for one load step's pattern rather than
// one tight loop: every 2 ms it SRTP-encrypts and sends the packets due at
// rate packets a second to each of subscribers sockets on remote, each
// read by its own goroutine, from one unconnected socket on local. That
// is what an SFU with nothing but the kernel and SRTP would spend per
// forwarded packet at that load: unlike the tight loop's one always-busy
// receiver, each send may wake a sleeping reader, and every send names
// its destination. It returns the sending thread's CPU time per packet.
func measureFanoutFloor(local, remote string, payloadBytes, subscribers, rate int, d time.Duration) (floorResult, error) {
	var sockets []*net.UDPConn
	var addrs []*net.UDPAddr
	closeAll := func() error {
		var errs []error
		for _, s := range sockets {
			errs = append(errs, s.Close())
		}
		return errors.Join(errs...)
	}
	done := make(chan struct{}, subscribers)
	for range subscribers {
		rx, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(remote)})
		if err != nil {
			err = errors.Join(fmt.Errorf("fan-out floor: listen: %w", err), closeAll())
			for range sockets {
				<-done
			}
			return floorResult{}, err
		}
		sockets, addrs = append(sockets, rx), append(addrs, rx.LocalAddr().(*net.UDPAddr))
		go func() {
			defer func() { done <- struct{}{} }()
			buf := make([]byte, 2048)
			for {
				if _, err := rx.Read(buf); err != nil {
					return
				}
			}
		}()
	}
	tx, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(local)})
	var res floorResult
	if err == nil {
		res, err = fanoutLoop(tx, addrs, payloadBytes, rate, d)
		err = errors.Join(err, tx.Close())
	}
	err = errors.Join(err, closeAll())
	for range sockets {
		<-done
	}
	return res, err
}

// srtpSender is one destination's SRTP context and RTP header.
type srtpSender struct {
	ctx *srtp.Context
	h   rtp.Header
}

// fanoutLoop is measureFanoutFloor's sending thread.
func fanoutLoop(conn *net.UDPConn, dests []*net.UDPAddr, payloadBytes, rate int, d time.Duration) (floorResult, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	contexts := make([]*srtpSender, len(dests)) // one SRTP context per destination, as per viewer
	for i := range contexts {
		ctx, err := newSRTPContext()
		if err != nil {
			return floorResult{}, err
		}
		contexts[i] = &srtpSender{ctx: ctx, h: rtp.Header{Version: 2, PayloadType: 96, SSRC: uint32(0x4b52 + i), Marker: true}}
	}
	plain := make([]byte, 12+payloadBytes)
	cipher := make([]byte, 0, len(plain)+64)
	start, err := threadCPU()
	if err != nil {
		return floorResult{}, err
	}
	var res floorResult
	begin := time.Now()
	var due uint64
	for now := begin; now.Sub(begin) < d; now = time.Now() {
		for target := uint64(now.Sub(begin).Seconds() * float64(rate)); due < target; due++ {
			for i, s := range contexts {
				s.h.SequenceNumber++
				s.h.Timestamp += 3000
				if _, err := s.h.MarshalTo(plain); err != nil {
					return res, fmt.Errorf("fan-out floor: marshal: %w", err)
				}
				out, err := s.ctx.EncryptRTP(cipher[:0], plain, &s.h)
				if err != nil {
					return res, fmt.Errorf("fan-out floor: encrypt: %w", err)
				}
				_, _ = conn.WriteToUDP(out, dests[i])
				res.Packets++
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	end, err := threadCPU()
	res.CPU = end - start
	return res, err
}
