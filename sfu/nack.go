package sfu

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// nackHistory is how many forwarded packets each published video track
// keeps to answer viewers' NACKs: two seconds of 2 Mbit/s video, a third
// of a second at 15 Mbit/s, well past the round trips a retransmission
// can still help within.
const nackHistory = 512

// resendInterval is the least time between two retransmissions of one
// packet to one viewer: overlapping NACKs for a packet just resent are
// ignored. It doubles with each further retransmission of the packet
// (sentStream, resend.go).
const resendInterval = 10 * time.Millisecond

// Retransmission budget per viewer stream, a token bucket: resendBurst
// packets at once (the whole history, for a long outage), refilled at
// resendRate packets a second (a 15 Mbit/s stream losing half its
// packets). Without it, a viewer NACKing the whole history every
// resendInterval would make the SFU send it 50 000 packets a second.
const (
	resendBurst = nackHistory
	resendRate  = 1000
)

// trackHistory is the recent packets of one published video track, kept
// once for all of its viewers: every viewer is sent the same packets
// (same sequence numbers, timestamps and payloads; only the SSRC and
// payload type are the viewer's own), so the track's read loop records
// each packet once, before forwarding it, and a viewer's NACK is answered
// from here. Payloads are kept by reference: a forwarded packet's payload
// is a fresh buffer per received packet that nothing modifies afterwards
// (the publisher's read loop gets a new one for every packet, and sinks
// may not modify what they get).
type trackHistory struct {
	mu   sync.RWMutex
	ring [nackHistory]sentPacket
}

// sentPacket is what a retransmission needs of a forwarded packet, in one
// 64-byte cache line. Extensions are never forwarded and padding carries
// nothing worth resending.
type sentPacket struct {
	payload []byte   // shared, read-only
	csrc    []uint32 // shared, read-only; nil almost always
	ts      uint32
	seq     uint16
	valid   bool
	marker  bool
}

// record keeps a packet about to be forwarded.
func (h *trackHistory) record(hdr *rtp.Header, payload []byte) {
	h.mu.Lock()
	h.ring[hdr.SequenceNumber%nackHistory] = sentPacket{payload: payload, csrc: hdr.CSRC, ts: hdr.Timestamp,
		seq: hdr.SequenceNumber, valid: true, marker: hdr.Marker}
	h.mu.Unlock()
}

// packetHistory is where a viewer's NACKed packets are looked up: a
// track's own history, or a simulcast viewer's (layeredTrack), which maps
// its rewritten sequence numbers to the layer's.
type packetHistory interface {
	lookup(seq uint16) (sentPacket, bool)
}

// lookup returns the packet with sequence number seq, if still kept.
func (h *trackHistory) lookup(seq uint16) (sentPacket, bool) {
	h.mu.RLock()
	p := h.ring[seq%nackHistory]
	h.mu.RUnlock()
	return p, p.valid && p.seq == seq
}

// nackResponder answers one PeerConnection's viewer NACKs from the
// histories of the tracks its senders forward, as RTX when the stream has
// an RTX SSRC. Each connection builds its own (engine.newAPI) and links a
// sender's SSRC to the forwarded track's history when it binds the track;
// it is the interceptor and its own factory.
type nackResponder struct {
	interceptor.NoOp
	now func() time.Time

	// sent counts the retransmissions written (the SFU's total); nil
	// counts nothing.
	sent *atomic.Uint64

	mu      sync.Mutex
	links   map[uint32]packetHistory // by media SSRC, set by the connection
	streams map[uint32]*sentStream   // by media SSRC, once bound
}

func newNackResponder(now func() time.Time, sent *atomic.Uint64) *nackResponder {
	return &nackResponder{now: now, sent: sent, links: make(map[uint32]packetHistory), streams: make(map[uint32]*sentStream)}
}

// NewInterceptor implements interceptor.Factory: the responder is built
// for exactly one PeerConnection.
func (n *nackResponder) NewInterceptor(string) (interceptor.Interceptor, error) { return n, nil }

// link tells the responder that the sender with media SSRC ssrc forwards
// the track whose history is h. It must happen before the sender starts.
func (n *nackResponder) link(ssrc uint32, h packetHistory) {
	n.mu.Lock()
	n.links[ssrc] = h
	n.mu.Unlock()
}

// unlink forgets a sender that no longer forwards its track.
func (n *nackResponder) unlink(ssrc uint32) {
	n.mu.Lock()
	delete(n.links, ssrc)
	delete(n.streams, ssrc)
	n.mu.Unlock()
}

// BindLocalStream makes a linked stream that negotiated NACK answerable.
// It records nothing and returns writer itself: the history is the
// track's, written once per packet for every viewer.
func (n *nackResponder) BindLocalStream(info *interceptor.StreamInfo, writer interceptor.RTPWriter) interceptor.RTPWriter {
	if !negotiatedNack(info) {
		return writer
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	h := n.links[info.SSRC]
	if h == nil {
		return writer
	}
	n.streams[info.SSRC] = &sentStream{writer: writer, history: h, ssrc: info.SSRC, pt: info.PayloadType,
		rtxSSRC: info.SSRCRetransmission, rtxPT: info.PayloadTypeRetransmission,
		rtxSeq: uint16(info.SSRC), sent: n.sent} // any start will do; the SSRC is random
	return writer
}

// negotiatedNack reports whether the stream's codec negotiated generic
// NACK ("nack" without a parameter; "nack pli" is a keyframe request):
// the responder answers and nackFeedback asks only for such streams.
func negotiatedNack(info *interceptor.StreamInfo) bool {
	for _, fb := range info.RTCPFeedback {
		if fb.Type == "nack" && fb.Parameter == "" {
			return true
		}
	}
	return false
}

// UnbindLocalStream stops answering a stream.
func (n *nackResponder) UnbindLocalStream(info *interceptor.StreamInfo) {
	n.mu.Lock()
	delete(n.streams, info.SSRC)
	n.mu.Unlock()
}

// Close forgets every stream.
func (n *nackResponder) Close() error {
	n.mu.Lock()
	clear(n.streams)
	clear(n.links)
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

// answer resends what a NACK asks for, in order, holding the stream's
// lock throughout: a viewer's NACKs are answered one at a time.
func (n *nackResponder) answer(nack *rtcp.TransportLayerNack) {
	n.mu.Lock()
	s := n.streams[nack.MediaSSRC]
	n.mu.Unlock()
	if s == nil {
		return
	}
	ns := n.now().UnixNano()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, pair := range nack.Nacks {
		s.resend(pair.PacketID, ns)
		for i := range uint16(16) {
			if pair.LostPackets&(1<<i) != 0 {
				s.resend(pair.PacketID+i+1, ns)
			}
		}
	}
}
