package sfu

import (
	"encoding/binary"
	"math/rand/v2"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// nackFeedback asks one publishing connection for the packets it lost
// (RFC 4585 generic NACK), as pion's NACK generator does and with its
// defaults (512 sequence numbers remembered, each missing one asked for
// every interval until it arrives or is forgotten), but without a ticker
// and a goroutine per connection: the SFU's feedbackTicker sends every
// connection's NACKs together with its congestion feedback, and each
// arrival is noted where it is read.
type nackFeedback struct {
	interceptor.NoOp
	feedbackLink
	sender uint32 // the SSRC the NACKs are sent from

	streams map[uint32]*receiveLog // by media SSRC, streams that negotiated NACK
	repairs map[uint32]*receiveLog // by RTX SSRC, the log of the stream repaired
	missing []uint16               // reused by flush
}

// nackFeedbackFactory builds a connection's nackFeedback.
type nackFeedbackFactory struct{ ticker *feedbackTicker }

// NewInterceptor implements interceptor.Factory.
func (f nackFeedbackFactory) NewInterceptor(string) (interceptor.Interceptor, error) {
	return &nackFeedback{feedbackLink: feedbackLink{ticker: f.ticker}, sender: rand.Uint32(), // #nosec G404: an SSRC, not a secret
		streams: make(map[uint32]*receiveLog), repairs: make(map[uint32]*receiveLog)}, nil
}

// BindRTCPWriter implements interceptor.Interceptor: NACKs are sent
// through writer from now on.
func (n *nackFeedback) BindRTCPWriter(writer interceptor.RTCPWriter) interceptor.RTCPWriter {
	return n.bindWriter(n, writer, nil)
}

// BindRemoteStream implements interceptor.Interceptor: the sequence
// numbers of a stream that negotiated generic NACK are noted as they are
// read, and so are those its RTX stream (RFC 4588) brings back, so that
// a repaired packet is not asked for again. pion binds a stream before
// its RTX stream.
func (n *nackFeedback) BindRemoteStream(info *interceptor.StreamInfo, reader interceptor.RTPReader) interceptor.RTPReader {
	n.mu.Lock()
	defer n.mu.Unlock()
	if log := n.repairs[info.SSRC]; log != nil {
		return n.noteRepairs(log, reader)
	}
	if !negotiatedNack(info) {
		return reader
	}
	log := &receiveLog{}
	n.streams[info.SSRC] = log
	if info.SSRCRetransmission != 0 {
		n.repairs[info.SSRCRetransmission] = log
	}
	return interceptor.RTPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		i, a, h, err := readHeader(reader, b, a)
		if err != nil {
			return 0, nil, err
		}
		n.mu.Lock()
		log.add(h.SequenceNumber)
		n.mu.Unlock()
		return i, a, nil
	})
}

// noteRepairs reads an RTX stream: the original sequence number each
// packet carries (its payload's first two bytes) has arrived. Padding
// alone (a bandwidth probe) carries none.
func (n *nackFeedback) noteRepairs(log *receiveLog, reader interceptor.RTPReader) interceptor.RTPReader {
	return interceptor.RTPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		i, a, err := reader.Read(b, a)
		if err != nil {
			return 0, nil, err
		}
		// The header's own length, as sent: repairs are rare enough to
		// parse again rather than trust a re-encoded header's size.
		var h rtp.Header
		start, err := h.Unmarshal(b[:i])
		if err != nil {
			return i, a, nil // pion's path decides what a broken packet is
		}
		end := i
		if h.Padding && end > 0 {
			end -= int(b[end-1])
		}
		if end-start >= 2 {
			n.mu.Lock()
			log.add(binary.BigEndian.Uint16(b[start:]))
			n.mu.Unlock()
		}
		return i, a, nil
	})
}

// UnbindRemoteStream implements interceptor.Interceptor.
func (n *nackFeedback) UnbindRemoteStream(info *interceptor.StreamInfo) {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.streams, info.SSRC)
	delete(n.repairs, info.SSRCRetransmission)
}

// flush sends a NACK for every stream with packets missing.
func (n *nackFeedback) flush() {
	n.mu.Lock()
	if n.writer == nil || n.closed {
		n.mu.Unlock()
		return
	}
	var pkts []rtcp.Packet
	for ssrc, log := range n.streams {
		n.missing = log.missing(n.missing[:0])
		if len(n.missing) > 0 {
			pkts = append(pkts, &rtcp.TransportLayerNack{SenderSSRC: n.sender, MediaSSRC: ssrc,
				Nacks: rtcp.NackPairsFromSequenceNumbers(n.missing)})
		}
	}
	w := n.writer
	n.mu.Unlock()
	send(w, pkts)
}

// Close implements interceptor.Interceptor.
func (n *nackFeedback) Close() error { return n.leave(n) }
