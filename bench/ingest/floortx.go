package ingestbench

import (
	"errors"
	"fmt"
	"net"
	"sync"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

// floorSender is one floor publisher: the clip's packets, SRTP-encrypted
// with the floor key and sent from a socket of its own, as a publisher's
// PeerConnection sends them (without RTCP or header extensions). It never
// receives keyframe requests.
type floorSender struct {
	conn  *net.UDPConn
	mu    sync.Mutex // the clip's video and audio are written by one goroutine; Close by another
	ctx   *srtp.Context
	video uint32 // SSRCs
	audio uint32
	plain []byte
	enc   []byte
}

// newFloorSender connects a socket on local to the receiver.
func newFloorSender(local string, receiver *net.UDPAddr, key []byte, index int) (*floorSender, error) {
	ctx, err := newSRTPContext(key)
	if err != nil {
		return nil, err
	}
	conn, err := net.DialUDP("udp4", &net.UDPAddr{IP: net.ParseIP(local)}, receiver)
	if err != nil {
		return nil, fmt.Errorf("floor: dial: %w", err)
	}
	return &floorSender{conn: conn, ctx: ctx, video: 0x10000 + uint32(index)*2, audio: 0x10001 + uint32(index)*2,
		plain: make([]byte, 1500), enc: make([]byte, 0, 1600)}, nil
}

// WriteRTP sends a video packet.
func (s *floorSender) WriteRTP(p *rtp.Packet) error { return s.write(p, s.video, 96) }

// WriteAudioRTP sends an audio packet.
func (s *floorSender) WriteAudioRTP(p *rtp.Packet) error { return s.write(p, s.audio, 111) }

// TakeVideoKeyframeRequest is false: the floor asks for nothing.
func (s *floorSender) TakeVideoKeyframeRequest() bool { return false }

func (s *floorSender) write(p *rtp.Packet, ssrc uint32, pt uint8) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := p.Header
	h.SSRC, h.PayloadType = ssrc, pt
	q := rtp.Packet{Header: h, Payload: p.Payload}
	n, err := q.MarshalTo(s.plain)
	if err != nil {
		return fmt.Errorf("floor: marshal: %w", err)
	}
	out, err := s.ctx.EncryptRTP(s.enc[:0], s.plain[:n], &q.Header)
	if err != nil {
		return fmt.Errorf("floor: encrypt: %w", err)
	}
	if _, err := s.conn.Write(out); err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("floor: send: %w", err)
	}
	return nil
}

// Close closes the socket.
func (s *floorSender) Close() error {
	if err := s.conn.Close(); err != nil {
		return fmt.Errorf("floor: close: %w", err)
	}
	return nil
}
