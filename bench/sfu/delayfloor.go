package sfubench

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/kiroku-sfu/kiroku/loadgen"
)

// measureDelayFloor sends stamped datagrams of payloadBytes from local to
// remote at rate packets per second for d, paced as the load generator
// paces, and returns the one-way delays a goroutine reading them saw. It
// is the machine's own delay on the same path (kernel, scheduler, other
// tenants' load) with no SFU in between. Arrivals are the kernel's receive
// timestamps, as in the load generator.
func measureDelayFloor(local, remote string, rate, payloadBytes int, d time.Duration) (*loadgen.DelayCounts, error) {
	rx, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(remote)})
	if err != nil {
		return nil, fmt.Errorf("delay floor: listen: %w", err)
	}
	if err := loadgen.EnableRxTimestamps(rx); err != nil {
		return nil, errors.Join(fmt.Errorf("delay floor: receive timestamps: %w", err), rx.Close())
	}
	var h loadgen.Histogram
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf, oob := make([]byte, 2048), make([]byte, loadgen.OOBBytes)
		for {
			n, _, at, err := loadgen.ReadWithTimestamp(rx, buf, oob, time.Now)
			if err != nil {
				return
			}
			if s, err := loadgen.ParseStamp(buf[:n]); err == nil {
				h.Record(at.Sub(s.Sent))
			}
		}
	}()
	tx, err := net.DialUDP("udp4", &net.UDPAddr{IP: net.ParseIP(local)}, rx.LocalAddr().(*net.UDPAddr))
	if err != nil {
		err = errors.Join(fmt.Errorf("delay floor: dial: %w", err), rx.Close())
		<-done
		return nil, err
	}
	paceDatagrams(tx, rate, payloadBytes, d)
	time.Sleep(50 * time.Millisecond) // let the last datagrams land
	err = errors.Join(tx.Close(), rx.Close())
	<-done
	return h.Snapshot(), err
}

// paceDatagrams sends rate stamped datagrams per second for d, waking
// every 2 ms like the load generator's publishers.
func paceDatagrams(conn *net.UDPConn, rate, payloadBytes int, d time.Duration) {
	payload := make([]byte, payloadBytes)
	t := time.NewTicker(2 * time.Millisecond)
	defer t.Stop()
	start := time.Now()
	var seq uint64
	for now := range t.C {
		elapsed := now.Sub(start)
		if elapsed > d {
			return
		}
		for due := uint64(elapsed.Seconds() * float64(rate)); seq < due; seq++ {
			loadgen.PutStamp(payload, loadgen.Stamp{Seq: seq, Sent: time.Now()})
			_, _ = conn.Write(payload) // a refused datagram shows up as a missing delay
		}
	}
}
