package srtpout

import (
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
	"github.com/pion/webrtc/v4"

	"github.com/kiroku-sfu/kiroku/memudp"
)

// The modes of a Path. It starts pending and settles once, when DTLS
// connects: direct when the keys and the socket are known, pion
// otherwise. One stream's packets never take both ways, so every SSRC's
// rollover counter lives in exactly one SRTP context.
const (
	modePending int32 = iota // DTLS not connected: packets are dropped, as pion drops them
	modeDirect               // encrypted here and sent on the mux socket
	modePion                 // handed to pion's SRTP writer
)

// Path sends one PeerConnection's outgoing RTP: it encrypts each packet
// with the SRTP keys pion's DTLS handshake agreed (KeyCapture) and sends
// it on the shared UDP socket to the address of the ICE pair pion
// selected. pion's own write path for the same packet (SRTP session
// lookup and locks, mux endpoint, ICE connection with its clock reads,
// UDP mux) costs about as much again as the encryption, for every packet
// and every viewer.
//
// A Path is an interceptor and its own factory; it must be the first in
// the connection's registry, right above pion's SRTP writer, so that it
// sees every RTP packet the connection sends. RTCP, ICE and DTLS keep
// pion's paths. Where it cannot be used (this side is the DTLS client, an
// unknown cipher suite, no socket for the selected local address) the
// connection keeps pion's write path for good.
type Path struct {
	interceptor.NoOp
	sockets Sockets
	keys    KeyCapture
	log     *slog.Logger

	mode   atomic.Int32
	route  atomic.Pointer[route]
	direct atomic.Pointer[Keys] // set before mode becomes modeDirect
	ice    atomic.Pointer[webrtc.ICETransport]
	settle sync.Once
	// settled learns the way chosen, once; may be nil.
	settled func(direct bool)
	// recv receives directly; nil without EnableReceive.
	recv *Receiver
}

// route is where a direct packet goes.
type route struct {
	conn   *memudp.Conn
	remote netip.AddrPort
}

// NewPath returns a pending Path sending on sockets. settled, if not nil,
// is called once with the way packets take when DTLS connects.
func NewPath(sockets Sockets, log *slog.Logger, settled func(direct bool)) *Path {
	return &Path{sockets: sockets, log: log, settled: settled}
}

// Install points the DTLS hooks of se, the setting engine of this
// Path's PeerConnection only, at the Path's key capture.
func (p *Path) Install(se *webrtc.SettingEngine) { p.keys.Install(se) }

// Attach follows pc's selected ICE pair and settles the mode when its
// DTLS transport connects. pc must be the PeerConnection built with this
// Path's setting engine and interceptor; call it before negotiating.
func (p *Path) Attach(pc *webrtc.PeerConnection) {
	dtlsTransport := pc.SCTP().Transport()
	iceTransport := dtlsTransport.ICETransport()
	p.ice.Store(iceTransport)
	iceTransport.OnSelectedCandidatePairChange(p.pairSelected)
	dtlsTransport.OnStateChange(func(s webrtc.DTLSTransportState) {
		if s == webrtc.DTLSTransportStateConnected {
			p.settle.Do(p.settleMode)
		}
	})
}

// Direct reports whether packets are encrypted and sent here.
func (p *Path) Direct() bool { return p.mode.Load() == modeDirect }

// settleMode chooses the way packets take from now on.
func (p *Path) settleMode() {
	if p.route.Load() == nil {
		// The pair-change callback runs on its own goroutine and may
		// still be on its way.
		if t := p.ice.Load(); t != nil {
			if pair, err := t.GetSelectedCandidatePair(); err == nil {
				p.pairSelected(pair)
			}
		}
	}
	keys := p.keys.Keys()
	switch {
	case keys == nil:
		p.log.Debug("SRTP sent through pion", "reason", p.keys.Err())
		p.mode.Store(modePion)
	case p.route.Load() == nil:
		p.log.Debug("SRTP sent through pion", "reason", "no socket for the selected ICE pair")
		p.mode.Store(modePion)
	default:
		p.direct.Store(keys)
		p.mode.Store(modeDirect)
	}
	if p.settled != nil {
		p.settled(p.Direct())
	}
	p.settleReceive()
}

// settleReceive settles the Receiver as the send side settled.
func (p *Path) settleReceive() {
	if p.recv == nil {
		return
	}
	var keys *Keys
	var at demuxKey
	if r := p.route.Load(); p.Direct() && r != nil {
		keys, at = p.keys.RemoteKeys(), demuxKey{r.conn, r.remote}
	}
	if err := p.recv.start(keys, at); err != nil {
		p.log.Debug("SRTP received through pion", "err", err)
	}
}

// pairSelected points direct packets at a newly selected ICE pair. A
// pair whose address cannot be used keeps the last route (pion would
// send from the same mux socket).
func (p *Path) pairSelected(pair *webrtc.ICECandidatePair) {
	r, err := p.routeFor(pair)
	if err != nil {
		p.log.Debug("selected ICE pair not usable for direct SRTP", "err", err)
		return
	}
	p.route.Store(r)
	if p.recv != nil {
		p.recv.moved(demuxKey{r.conn, r.remote})
	}
}

func (p *Path) routeFor(pair *webrtc.ICECandidatePair) (*route, error) {
	if pair == nil || pair.Local == nil || pair.Remote == nil {
		return nil, fmt.Errorf("no pair")
	}
	if pair.Local.Protocol != webrtc.ICEProtocolUDP {
		return nil, fmt.Errorf("local candidate is %s", pair.Local.Protocol)
	}
	local, err := netip.ParseAddr(pair.Local.Address)
	if err != nil {
		return nil, fmt.Errorf("local candidate address: %w", err)
	}
	remote, err := netip.ParseAddr(pair.Remote.Address)
	if err != nil {
		return nil, fmt.Errorf("remote candidate address: %w", err)
	}
	conn := p.sockets.Socket(local)
	if conn == nil {
		return nil, fmt.Errorf("no mux socket for local address %s", local)
	}
	return &route{conn: conn, remote: netip.AddrPortFrom(remote.Unmap(), pair.Remote.Port)}, nil
}

// NewInterceptor implements interceptor.Factory: a Path serves exactly
// one PeerConnection.
func (p *Path) NewInterceptor(string) (interceptor.Interceptor, error) { return p, nil }

// BindLocalStream returns the writer for one outgoing stream.
func (p *Path) BindLocalStream(_ *interceptor.StreamInfo, next interceptor.RTPWriter) interceptor.RTPWriter {
	return &stream{path: p, next: next}
}

// stream writes one local stream (its media SSRC and, for
// retransmissions, its RTX SSRC) with an SRTP context of its own, so
// that streams written from different goroutines never wait for each
// other.
type stream struct {
	path *Path
	next interceptor.RTPWriter // pion's SRTP writer

	mu     sync.Mutex
	ctx    *srtp.Context
	header rtp.Header // EncryptRTP parses the header into it
	plain  []byte
	sealed []byte
}

// Write implements interceptor.RTPWriter.
func (s *stream) Write(h *rtp.Header, payload []byte, a interceptor.Attributes) (int, error) {
	switch s.path.mode.Load() {
	case modeDirect:
		return s.send(h, payload)
	case modePion:
		return s.next.Write(h, payload, a)
	}
	return 0, nil
}

// send encrypts and sends one packet.
func (s *stream) send(h *rtp.Header, payload []byte) (int, error) {
	r := s.path.route.Load()
	pkt := rtp.Packet{Header: *h, Payload: payload}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx == nil {
		k := s.path.direct.Load()
		ctx, err := srtp.CreateContext(k.Key, k.Salt, k.Profile)
		if err != nil {
			return 0, fmt.Errorf("srtp context: %w", err)
		}
		s.ctx = ctx
	}
	if size := pkt.MarshalSize(); cap(s.plain) < size {
		s.plain = make([]byte, size)
	}
	n, err := pkt.MarshalTo(s.plain[:cap(s.plain)])
	if err != nil {
		return 0, fmt.Errorf("marshal rtp: %w", err)
	}
	sealed, err := s.ctx.EncryptRTP(s.sealed[:0], s.plain[:n], &s.header)
	if err != nil {
		return 0, fmt.Errorf("srtp encrypt: %w", err)
	}
	s.sealed = sealed
	if _, err := r.conn.WriteToUDPAddrPort(sealed, r.remote); err != nil {
		return 0, fmt.Errorf("send srtp: %w", err)
	}
	return n, nil
}
