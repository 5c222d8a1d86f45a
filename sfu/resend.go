package sfu

import (
	"encoding/binary"
	"sync"
	"sync/atomic"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
)

// resendBackoffMax bounds the doubling of the wait between two
// retransmissions of one packet to one viewer: resendInterval << 6, 640 ms.
const resendBackoffMax = 6

// sentStream is one outgoing stream whose NACKs are answered.
//
// A NACK that cannot be answered costs little: the checks that need no
// packet (resent moments ago, no budget left) come before the history is
// read, since a simulcast viewer's lookup maps the number to its layer
// and rewrites the packet's picture numbers. A packet resent and NACKed
// again waits twice as long as the time before, up to resendBackoffMax
// doublings: a browser whose retransmission was lost asks again one
// round trip later and gets it, while a client that never notices the
// retransmissions (pion delivers RTX-repaired packets around its NACK
// generator, which then asks for them every 100 ms for as long as they
// stay in its window) is not sent each packet fifty times.
type sentStream struct {
	writer  interceptor.RTPWriter // below the responder: the SRTP writer
	history packetHistory
	ssrc    uint32
	pt      uint8
	rtxSSRC uint32
	rtxPT   uint8
	sent    *atomic.Uint64 // counts what is written; nil counts nothing

	// Everything below is guarded by mu, held while a NACK is answered.
	mu     sync.Mutex
	rtxSeq uint16
	resent *[nackHistory]resend // allocated by the first NACK
	tokens float64              // retransmissions allowed now (resendBurst at the first NACK)
	filled int64                // unix ns when tokens was last refilled; 0 before the first NACK
	hdr    rtp.Header           // the packet being resent: written, then done with
	rtxBuf []byte               // its RTX payload, reused
}

// resend is when a sequence number was last retransmitted, and how many
// times in a row.
type resend struct {
	at    int64 // unix nanoseconds
	seq   uint16
	count uint8 // retransmissions of seq, saturating
}

// due reports whether seq may be resent at ns.
func (r *resend) due(seq uint16, ns int64) bool {
	if r.seq != seq || r.at == 0 {
		return true
	}
	return ns-r.at >= int64(resendInterval)<<min(int(r.count)-1, resendBackoffMax)
}

// note records a retransmission of seq at ns.
func (r *resend) note(seq uint16, ns int64) {
	if r.seq != seq || r.at == 0 {
		r.count = 0
	}
	r.seq, r.at = seq, ns
	if r.count < ^uint8(0) {
		r.count++
	}
}

// refill tops up the stream's budget at ns and reports whether one
// retransmission is left.
func (s *sentStream) refill(ns int64) bool {
	if s.filled == 0 {
		s.tokens = resendBurst
	} else if ns > s.filled {
		s.tokens = min(resendBurst, s.tokens+float64(ns-s.filled)*resendRate/1e9)
	}
	s.filled = ns
	return s.tokens >= 1
}

// resend answers one NACKed sequence number at ns (s.mu held): the
// packet itself, or its RTX form when the stream has an RTX SSRC. Nothing
// is sent when the packet is gone, was resent moments ago or the budget
// is spent.
func (s *sentStream) resend(seq uint16, ns int64) {
	if s.resent == nil {
		s.resent = new([nackHistory]resend)
	}
	r := &s.resent[seq%nackHistory]
	if !r.due(seq, ns) || !s.refill(ns) {
		return
	}
	p, ok := s.history.lookup(seq)
	if !ok {
		return
	}
	s.tokens--
	r.note(seq, ns)
	s.hdr = rtp.Header{Version: 2, Marker: p.marker, PayloadType: s.pt, SequenceNumber: p.seq,
		Timestamp: p.ts, SSRC: s.ssrc, CSRC: p.csrc}
	payload := p.payload
	if s.rtxSSRC != 0 && s.rtxPT != 0 {
		// RFC 4588: the original sequence number, then the original
		// payload, on the RTX SSRC with its own sequence numbers; padding
		// is dropped. The writer is done with it when Write returns.
		s.rtxBuf = append(binary.BigEndian.AppendUint16(s.rtxBuf[:0], seq), p.payload...)
		payload = s.rtxBuf
		s.hdr.SSRC, s.hdr.PayloadType, s.hdr.SequenceNumber = s.rtxSSRC, s.rtxPT, s.rtxSeq
		s.rtxSeq++
	}
	// A failed write is a transport that is going away.
	if _, err := s.writer.Write(&s.hdr, payload, nil); err == nil && s.sent != nil {
		s.sent.Add(1)
	}
}
