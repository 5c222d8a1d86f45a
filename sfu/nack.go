package sfu

import (
	"encoding/binary"
	"sync"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// nackHistory is how many sent packets each viewer's sender keeps per
// track to answer NACKs: two seconds of 2 Mbit/s video, a third of a
// second at 15 Mbit/s, well past the round trips a retransmission can
// still help within.
const nackHistory = 512

// resendInterval is the least time between two retransmissions of one
// packet: overlapping NACKs for a packet just resent are ignored.
const resendInterval = 10 * time.Millisecond

// nackResponder answers viewers' NACKs from the packets their senders
// forwarded, as RTX when the stream has an RTX SSRC. Unlike a generic
// responder it copies no packet: it keeps the header by value and the
// payload by reference, since a forwarded packet's payload is a fresh
// buffer per received packet that nothing modifies afterwards (the
// publisher's read loop gets a new one for every packet, and sinks may
// not modify what they get). It is a factory and the interceptor at once:
// every PeerConnection gets its own instance.
type nackResponder struct {
	interceptor.NoOp
	now func() time.Time

	mu      sync.Mutex
	streams map[uint32]*sentStream // by media SSRC
}

// nackResponderFactory builds a responder per PeerConnection.
type nackResponderFactory struct{ now func() time.Time }

// NewInterceptor implements interceptor.Factory.
func (f nackResponderFactory) NewInterceptor(string) (interceptor.Interceptor, error) {
	return &nackResponder{now: f.now, streams: make(map[uint32]*sentStream)}, nil
}

// sentStream is one outgoing stream's recent packets.
type sentStream struct {
	writer  interceptor.RTPWriter // below the responder: the SRTP writer
	ssrc    uint32
	rtxSSRC uint32
	rtxPT   uint8

	mu     sync.Mutex
	ring   [nackHistory]sentPacket
	rtxSeq uint16
}

// sentPacket is what a retransmission needs of a forwarded packet, in one
// 64-byte cache line: a history slot is written for every packet and every
// viewer, so its size is what recording costs. The SSRC and payload type
// are the stream's; extensions are never forwarded and padding carries
// nothing worth resending.
type sentPacket struct {
	payload  []byte   // shared, read-only
	csrc     []uint32 // shared, read-only; nil almost always
	resentAt int64    // unix nanoseconds of the last retransmission
	ts       uint32
	seq      uint16
	valid    bool
	ptMarker uint8 // payload type in the low 7 bits, the marker bit on top
}

// BindLocalStream records every packet of streams that negotiated NACK.
func (n *nackResponder) BindLocalStream(info *interceptor.StreamInfo, writer interceptor.RTPWriter) interceptor.RTPWriter {
	if !negotiatedNack(info) {
		return writer
	}
	s := &sentStream{writer: writer, ssrc: info.SSRC, rtxSSRC: info.SSRCRetransmission, rtxPT: info.PayloadTypeRetransmission,
		rtxSeq: uint16(info.SSRC)} // any start will do; the SSRC is random
	n.mu.Lock()
	n.streams[info.SSRC] = s
	n.mu.Unlock()
	ssrc := info.SSRC
	return interceptor.RTPWriterFunc(func(h *rtp.Header, payload []byte, a interceptor.Attributes) (int, error) {
		if h.SSRC == ssrc {
			s.record(h, payload)
		}
		return writer.Write(h, payload, a)
	})
}

func negotiatedNack(info *interceptor.StreamInfo) bool {
	for _, fb := range info.RTCPFeedback {
		if fb.Type == "nack" && fb.Parameter == "" {
			return true
		}
	}
	return false
}

// UnbindLocalStream forgets a stream's packets.
func (n *nackResponder) UnbindLocalStream(info *interceptor.StreamInfo) {
	n.mu.Lock()
	delete(n.streams, info.SSRC)
	n.mu.Unlock()
}

// Close forgets every stream.
func (n *nackResponder) Close() error {
	n.mu.Lock()
	clear(n.streams)
	n.mu.Unlock()
	return nil
}

// BindRTCPReader answers NACKs found in the viewer's RTCP, synchronously
// on the reader's goroutine, and passes the RTCP on unchanged.
func (n *nackResponder) BindRTCPReader(reader interceptor.RTCPReader) interceptor.RTCPReader {
	return interceptor.RTCPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		i, attr, err := reader.Read(b, a)
		if err != nil {
			return 0, nil, err
		}
		if attr == nil {
			attr = make(interceptor.Attributes)
		}
		pkts, err := attr.GetRTCPPackets(b[:i])
		if err != nil {
			return 0, nil, err
		}
		for _, p := range pkts {
			if nack, ok := p.(*rtcp.TransportLayerNack); ok {
				n.answer(nack)
			}
		}
		return i, attr, nil
	})
}

func (n *nackResponder) answer(nack *rtcp.TransportLayerNack) {
	n.mu.Lock()
	s := n.streams[nack.MediaSSRC]
	n.mu.Unlock()
	if s == nil {
		return
	}
	now := n.now()
	for _, pair := range nack.Nacks {
		pair.Range(func(seq uint16) bool {
			if h, payload, ok := s.retransmission(seq, now); ok {
				// A failed write is a transport that is going away.
				_, _ = s.writer.Write(h, payload, nil)
			}
			return true
		})
	}
}

func (s *sentStream) record(h *rtp.Header, payload []byte) {
	ptMarker := h.PayloadType & 0x7f
	if h.Marker {
		ptMarker |= 0x80
	}
	s.mu.Lock()
	s.ring[h.SequenceNumber%nackHistory] = sentPacket{payload: payload, csrc: h.CSRC, ts: h.Timestamp,
		seq: h.SequenceNumber, valid: true, ptMarker: ptMarker}
	s.mu.Unlock()
}

// retransmission returns what to send for a NACKed sequence number: the
// packet itself, or its RTX form when the stream has an RTX SSRC. It
// reports false when the packet is gone or was resent moments ago.
func (s *sentStream) retransmission(seq uint16, now time.Time) (*rtp.Header, []byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := &s.ring[seq%nackHistory]
	if !p.valid || p.seq != seq || now.UnixNano()-p.resentAt < int64(resendInterval) {
		return nil, nil, false
	}
	p.resentAt = now.UnixNano()
	h := rtp.Header{Version: 2, Marker: p.ptMarker&0x80 != 0, PayloadType: p.ptMarker & 0x7f, SequenceNumber: p.seq,
		Timestamp: p.ts, SSRC: s.ssrc, CSRC: p.csrc}
	if s.rtxSSRC == 0 || s.rtxPT == 0 {
		return &h, p.payload, true
	}
	// RFC 4588: the original sequence number, then the original payload,
	// on the RTX SSRC with its own sequence numbers; padding is dropped.
	payload := make([]byte, 2+len(p.payload))
	binary.BigEndian.PutUint16(payload, seq)
	copy(payload[2:], p.payload)
	h.SSRC, h.PayloadType, h.SequenceNumber = s.rtxSSRC, s.rtxPT, s.rtxSeq
	s.rtxSeq++
	return &h, payload, true
}
