package srtpout

import (
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

// replayWindow is the SRTP replay window of a direct stream: pion's
// default for its own sessions.
const replayWindow = 64

// Receiver receives one PeerConnection's incoming RTP itself, on the
// goroutine that reads the shared socket (Demux): it decrypts each packet
// of a stream it took over with the remote side's SRTP keys, pulls it
// through the stream's interceptor chain (feedback stays pion's
// interceptors' job) and hands it to the stream's handler — no goroutine
// hand-offs on the way. A stream is taken over only once its track
// exists (Take), starting from the rollover counter pion's read loop has
// reached. STUN, DTLS, SRTCP and packets of other streams go on to pion.
//
// A Receiver belongs to a Path (EnableReceive) and settles with it: when
// the Path sends through pion, so does the Receiver receive.
type Receiver struct {
	demux   *Demux
	settled func(direct bool)

	// mu is held while a packet is handled and while the state below
	// changes.
	mu      sync.Mutex
	ctx     *srtp.Context // nil until direct
	key     *demuxKey     // where the Demux routes to this Receiver
	closed  bool
	streams map[uint32]*inStream // taken over, by SSRC
	wanted  map[uint32]*want     // taken, not over yet, by SSRC
	rtx     []*want              // whose RTX stream is not over yet
	chains  map[uint32]*chain    // every remote stream pion bound
	attrs   interceptor.Attributes
	pending []byte    // the packet a chain read returns
	arrival time.Time // when the kernel received it (zero: not known)
	header  rtp.Header
	// headerKey is where interceptor.Attributes keeps a parsed header
	// (headerAttributeKey); nil lets each interceptor parse its own.
	headerKey any

	received, dropped atomic.Uint64
}

// Handler takes one received RTP packet; it owns p and its payload. It
// runs on the socket's reader goroutine and must not block.
type Handler func(p *rtp.Packet)

// want is a stream Take asked for.
type want struct {
	ssrc        uint32
	payloadType uint8
	rtx         func() uint32 // the stream's RTX SSRC, 0 unknown; nil none
	handle      Handler
}

// inStream is a stream taken over.
type inStream struct {
	chain  *chain
	handle Handler
	repair *want // set on an RTX stream: the stream it repairs
	slab   packetSlab
}

// EnableReceive gives p a Receiver routed by d. settled, if not nil,
// learns once whether it receives directly. Call it before the Path's
// PeerConnection is built.
func (p *Path) EnableReceive(d *Demux, settled func(direct bool)) *Receiver {
	p.recv = &Receiver{demux: d, settled: settled,
		streams: make(map[uint32]*inStream), wanted: make(map[uint32]*want),
		chains: make(map[uint32]*chain), attrs: make(interceptor.Attributes),
		headerKey: headerAttributeKey()}
	return p.recv
}

// Receiver returns p's Receiver, nil without EnableReceive.
func (p *Path) Receiver() *Receiver { return p.recv }

// StopReceive stops the direct receive path: once it returns no packet
// reaches a handler through it. It is idempotent.
func (p *Path) StopReceive() {
	if p.recv != nil {
		p.recv.close()
	}
}

// Close implements interceptor.Interceptor: pion closes its interceptors
// when the PeerConnection closes.
func (p *Path) Close() error {
	p.StopReceive()
	return nil
}

// Direct reports whether the Receiver decrypts packets itself.
func (r *Receiver) Direct() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ctx != nil && !r.closed
}

// Received counts the packets handled directly; Dropped those that
// failed to decrypt (forged, replayed, too old).
func (r *Receiver) Received() uint64 { return r.received.Load() }

// Dropped counts packets of taken-over streams that failed to decrypt or
// to parse.
func (r *Receiver) Dropped() uint64 { return r.dropped.Load() }

// Taken reports whether the stream with SSRC ssrc is received directly.
func (r *Receiver) Taken(ssrc uint32) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.streams[ssrc] != nil
}

// Take asks for the stream with SSRC ssrc to be received directly from
// its next packet on, with its packets (RTX repairs unwrapped into it)
// going to h. payloadType is the stream's; rtx, if not nil, tells the
// SSRC of its RTX stream once pion knows it.
func (r *Receiver) Take(ssrc uint32, payloadType uint8, rtx func() uint32, h Handler) {
	w := &want{ssrc: ssrc, payloadType: payloadType, rtx: rtx, handle: h}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	r.wanted[ssrc] = w
	if rtx != nil {
		r.rtx = append(r.rtx, w)
	}
}

// start settles the Receiver: direct with keys (not nil) at k.
func (r *Receiver) start(keys *Keys, k demuxKey) error {
	var err error
	if keys != nil {
		err = r.begin(keys, k)
	}
	if r.settled != nil {
		r.settled(keys != nil && err == nil)
	}
	return err
}

func (r *Receiver) begin(keys *Keys, k demuxKey) error {
	// Cryptex (RFC 9335) enabled decrypts packets with and without
	// encrypted header extensions, whichever the offer and answer agreed.
	ctx, err := srtp.CreateContext(keys.Key, keys.Salt, keys.Profile,
		srtp.SRTPReplayProtection(replayWindow), srtp.Cryptex(srtp.CryptexModeEnabled))
	if err != nil {
		return fmt.Errorf("srtp receive context: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.ctx = ctx
	r.demux.set(r, nil, k)
	r.key = &k
	return nil
}

// moved follows the selected ICE pair to k.
func (r *Receiver) moved(k demuxKey) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ctx == nil || r.closed || (r.key != nil && *r.key == k) {
		return
	}
	r.demux.set(r, r.key, k)
	r.key = &k
}

func (r *Receiver) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	r.closed = true
	if r.key != nil {
		r.demux.remove(r, *r.key)
	}
	clear(r.streams)
	clear(r.wanted)
	r.rtx = nil
}

// bound and unbound follow the remote streams pion binds.
func (r *Receiver) bound(ssrc uint32, c *chain) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.chains[ssrc] = c
}

func (r *Receiver) unbound(ssrc uint32) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.chains, ssrc)
	delete(r.streams, ssrc)
}

// receive handles one datagram from the Receiver's pair; false leaves it
// to pion.
func (r *Receiver) receive(b []byte, arrival time.Time) bool {
	// RTP: version 2 and not an RTCP packet type (RFC 5761, section 4);
	// STUN and DTLS start otherwise (RFC 7983).
	if len(b) < 12 || b[0]>>6 != 2 || (b[1] >= 192 && b[1] <= 223) {
		return false
	}
	ssrc := binary.BigEndian.Uint32(b[8:12])
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ctx == nil || r.closed {
		return false
	}
	s := r.streams[ssrc]
	if s == nil {
		if s = r.adopt(ssrc, binary.BigEndian.Uint16(b[2:4])); s == nil {
			return false
		}
	}
	r.arrival = arrival
	p, ok := r.open(b, s)
	if !ok {
		r.dropped.Add(1)
		return true
	}
	if s.repair != nil {
		if p = unwrapRTX(p, s.repair); p == nil {
			return true // padding only: a bandwidth probe
		}
	}
	r.received.Add(1)
	s.handle(p)
	return true
}

// open decrypts b into s's slab, parses it and pulls it through s's
// interceptor chain, which is handed the parsed header rather than
// parsing it again in every interceptor.
func (r *Receiver) open(b []byte, s *inStream) (*rtp.Packet, bool) {
	plain, err := r.ctx.DecryptRTP(s.slab.buffer(len(b)), b, &r.header)
	if err != nil {
		return nil, false
	}
	p := s.slab.packet()
	if err := p.Unmarshal(plain); err != nil {
		return nil, false
	}
	r.pending = plain
	if r.headerKey == nil || len(r.attrs) > 3 {
		clear(r.attrs)
	}
	r.attrs[pendingKey{}] = r
	if r.headerKey != nil {
		r.attrs[r.headerKey] = &p.Header
	}
	if r.arrival.IsZero() {
		delete(r.attrs, ArrivalKey{})
	} else {
		r.attrs[ArrivalKey{}] = &r.arrival
	}
	n, _, err := s.chain.reader.Read(plain, r.attrs)
	r.pending = nil
	if err != nil {
		return nil, false
	}
	if n != len(plain) { // an interceptor changed the packet
		if err := p.Unmarshal(plain[:n]); err != nil {
			return nil, false
		}
	}
	p.Extensions = p.Extensions[:len(p.Extensions):len(p.Extensions)]
	return p, true
}

// adopt takes over the stream ssrc when it was asked for and pion has
// bound it; r.mu is held.
func (r *Receiver) adopt(ssrc uint32, seq uint16) *inStream {
	c := r.chains[ssrc]
	if c == nil {
		return nil
	}
	s := &inStream{chain: c}
	if w := r.wanted[ssrc]; w != nil {
		s.handle = w.handle
		delete(r.wanted, ssrc)
	} else if w := r.repairs(ssrc); w != nil {
		s.handle, s.repair = w.handle, w
	} else {
		return nil
	}
	r.ctx.SetROC(ssrc, c.rocFor(seq))
	r.streams[ssrc] = s
	return s
}

// repairs returns the stream whose RTX stream ssrc is, once pion has
// learnt it, and stops looking for that one.
func (r *Receiver) repairs(ssrc uint32) *want {
	for i, w := range r.rtx {
		if w.rtx() == ssrc {
			r.rtx = append(r.rtx[:i], r.rtx[i+1:]...)
			return w
		}
	}
	return nil
}

// unwrapRTX turns an RTX packet (RFC 4588) into the packet it repairs;
// nil when it carries no original sequence number (padding only).
func unwrapRTX(p *rtp.Packet, of *want) *rtp.Packet {
	if len(p.Payload) < 2 {
		return nil
	}
	p.SequenceNumber = binary.BigEndian.Uint16(p.Payload)
	p.Payload = p.Payload[2:]
	p.SSRC = of.ssrc
	p.PayloadType = of.payloadType
	p.Padding, p.PaddingSize = false, 0
	return p
}
