package recording

import (
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"github.com/kiroku-sfu/kiroku/archive"
)

// ntpPerSecond is one second in the 32.32 fixed-point NTP format.
const ntpPerSecond = 1 << 32

// play delivers passes of the stream to sink with arrival = base + media
// offset, each pass shifted to continue the one before. When speed > 0 it
// paces delivery at speed times real time (checked every 20 ms of media);
// otherwise it delivers as fast as it can. Payloads are shared between
// passes; the headers are fresh for every packet.
func (s *stream) play(sink archive.Sink, base time.Time, passes int, speed float64) {
	start := time.Now()
	var next time.Duration
	for k := range passes {
		shift := time.Duration(k) * s.span
		for _, it := range s.pass {
			at := shift + it.offset
			if speed > 0 && at >= next {
				if wait := time.Duration(float64(at)/speed) - time.Since(start); wait > 0 {
					time.Sleep(wait)
				}
				next = at + 20*time.Millisecond
			}
			if it.sr != nil {
				sink.WriteSenderReport(it.kind, s.shiftSR(it.sr, k), base.Add(at))
			} else {
				sink.WriteRTP(it.kind, s.shiftRTP(it.pkt, k), base.Add(at))
			}
		}
	}
}

// shiftRTP returns p as it is sent in pass k.
func (s *stream) shiftRTP(p *rtp.Packet, k int) *rtp.Packet {
	q := &rtp.Packet{Header: p.Header, Payload: p.Payload}
	q.SequenceNumber += uint16(k) * s.seqAdv[p.SSRC]
	q.Timestamp += uint32(k) * s.tsAdv[p.SSRC]
	return q
}

// shiftSR returns sr as it is sent in pass k.
func (s *stream) shiftSR(sr *rtcp.SenderReport, k int) *rtcp.SenderReport {
	q := *sr
	q.RTPTime += uint32(k) * s.tsAdv[sr.SSRC]
	q.NTPTime += uint64(float64(k) * s.span.Seconds() * ntpPerSecond)
	q.PacketCount += uint32(k) * uint32(s.seqAdv[sr.SSRC])
	return &q
}
