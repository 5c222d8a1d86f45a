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

// Simulcast layer rates, as fractions of Config.Rate (r2's): roughly the
// packets a browser sends for 180p, 360p and 720p layers at its default
// bit rates (about 0.2, 0.7 and 2.5 Mbit/s at 30 frames/s: one, three and
// nine packets a frame).
var layerRateDivisors = [simulcastLayers]int{8, 3, 1}

// paced is one stream a publisher sends: its own rate, sequence numbers
// and timestamps.
type paced struct {
	layer   int // simulcast layer; 0 without simulcast
	rate    int
	fanout  uint64 // receivers that should get each packet
	p       *rtp.Packet
	payload []byte
	tsStep  uint32
	seq     uint64    // next to send
	start   time.Time // when sending started
	sent    bool      // a packet went out: the first one is a keyframe
}

// streams is what publisher index sends: one stream, or the simulcast
// layers highest first (the layer receivers want arrives first).
func (l *Load) streams(index int) []*paced {
	newStream := func(layer, rate int, fanout uint64) *paced {
		payload := make([]byte, l.cfg.PayloadBytes)
		return &paced{layer: layer, rate: rate, fanout: fanout, payload: payload,
			tsStep: uint32(vp8.ClockRate) / uint32(rate),
			p:      &rtp.Packet{Header: rtp.Header{Version: 2, Marker: true}, Payload: payload}}
	}
	if !l.cfg.Simulcast {
		return []*paced{newStream(0, l.cfg.Rate, uint64(l.cfg.Subscribers))}
	}
	var out []*paced
	for layer := simulcastLayers - 1; layer >= 0; layer-- {
		var fanout uint64
		if layer == receivedLayer {
			fanout = uint64(l.cfg.Subscribers + l.cfg.Publishers - 1)
		}
		out = append(out, newStream(layer, max(l.cfg.Rate/layerRateDivisors[layer], 1), fanout))
	}
	return out
}

// pace sends stamped packets at the configured rate until ctx ends.
func (l *Load) pace(ctx context.Context, index uint32, c *Client) {
	streams := l.streams(int(index))
	start := l.cfg.Now()
	for _, s := range streams {
		s.start = start
	}
	t := time.NewTicker(paceTick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := l.cfg.Now()
		for _, s := range streams {
			l.send(index, c, s, now)
		}
	}
}

// send sends the packets of s due by now.
func (l *Load) send(index uint32, c *Client, s *paced, now time.Time) {
	due := uint64(now.Sub(s.start).Seconds() * float64(s.rate))
	if due > s.seq+maxBurst {
		s.seq = due - maxBurst // skip what a stall made us miss
	}
	for ; s.seq < due; s.seq++ {
		s.p.SequenceNumber = uint16(s.seq)
		s.p.Timestamp = uint32(s.seq) * s.tsStep
		st := Stamp{Publisher: index, Layer: uint8(s.layer), Seq: s.seq, Sent: l.cfg.Now()}
		var err error
		if l.cfg.Simulcast {
			if !s.sent || c.TakeKeyframeRequest(s.layer) {
				PutKeyframeStamp(s.payload, st)
			} else {
				PutStamp(s.payload, st)
			}
			err = c.WriteLayerRTP(s.layer, s.p)
		} else {
			PutStamp(s.payload, st)
			err = c.WriteRTP(s.p)
		}
		if err != nil {
			l.sendErrors.Add(1)
			continue
		}
		s.sent = true
		l.sent.Add(1)
		l.offered.Add(s.fanout)
	}
}
