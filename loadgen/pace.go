package loadgen

import (
	"context"
	"time"

	"github.com/pion/rtp"
)

// Pacing: a publisher wakes every paceTick and sends the packets due by
// then, at most maxBurst at once so a stall is not followed by a flood.
const (
	paceTick = 2 * time.Millisecond
	maxBurst = 64
)

// pace sends stamped packets at the configured rate until ctx ends.
func (l *Load) pace(ctx context.Context, index uint32, c *Client) {
	payload := make([]byte, l.cfg.PayloadBytes)
	tsStep := uint32(vp8.ClockRate) / uint32(l.cfg.Rate)
	p := &rtp.Packet{Header: rtp.Header{Version: 2, Marker: true}, Payload: payload}
	t := time.NewTicker(paceTick)
	defer t.Stop()
	start := l.cfg.Now()
	var seq uint64
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := l.cfg.Now()
		due := uint64(now.Sub(start).Seconds() * float64(l.cfg.Rate))
		if due > seq+maxBurst {
			seq = due - maxBurst // skip what a stall made us miss
		}
		for ; seq < due; seq++ {
			p.SequenceNumber = uint16(seq)
			p.Timestamp = uint32(seq) * tsStep
			PutStamp(payload, Stamp{Publisher: index, Seq: seq, Sent: l.cfg.Now()})
			if err := c.WriteRTP(p); err != nil {
				l.sendErrors.Add(1)
				continue
			}
			l.sent.Add(1)
		}
	}
}
