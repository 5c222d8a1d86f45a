package signaling

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/kiroku-sfu/kiroku/sfu"
)

// session is one WebSocket: the connect/offer/answer state machine of one
// connection. The reader runs in the HTTP handler's goroutine; writeLoop
// and pingLoop are started by it and waited for in teardown.
type session struct {
	srv *Server
	ws  *websocket.Conn
	log *slog.Logger
	wg  sync.WaitGroup // writeLoop, pingLoop

	out  *outbox       // what writeLoop sends
	done chan struct{} // closed at teardown; stops pingLoop

	closeOnce sync.Once
	closing   atomic.Bool
	reason    atomic.Value // string: why the server closed
	apiReason atomic.Value // string: the disconnect API's reason, for connection.destroyed

	conn        *sfu.Connection // set by connect before any callback can run
	answerTimer *time.Timer     // closes the connection if no answer comes
	lifeTimer   *time.Timer     // connection_lifetime from the authenticator
	answered    atomic.Bool     // the first answer was applied
	turnUser    string          // TURN credentials to revoke at teardown; set before the offer
	clientAddr  string          // the client's address (clientaddr.go); set before run

	// DataChannel signaling (see dcsignaling.go).
	ignoreWS bool          // keep the connection when the WebSocket closes
	switched atomic.Bool   // "switched" was sent: signaling uses DataChannels
	dcDone   chan struct{} // closed when a switched connection ends
	dcOnce   sync.Once
	// closeSent: the "close" message went over the signaling DataChannel.
	closeSent atomic.Bool
}

func newSession(srv *Server, ws *websocket.Conn) *session {
	return &session{srv: srv, ws: ws, log: srv.log, out: newOutbox(outboxLimit),
		done: make(chan struct{}), dcDone: make(chan struct{})}
}

// run reads and handles messages until the WebSocket ends, then tears the
// connection down.
func (s *session) run() {
	s.wg.Add(1)
	go s.writeLoop()
	defer s.teardown()
	defer s.awaitDataChannels()
	_ = s.ws.SetReadDeadline(s.srv.now().Add(s.srv.cfg.ConnectTimeout))
	for {
		raw, err := readMessage(s.ws, s.srv.cfg.MaxMessageBytes)
		if s.closing.Load() {
			if err != nil {
				return
			}
			continue // discard until the client's close frame
		}
		var rej *rejection
		switch {
		case errors.As(err, &rej):
		case err != nil && isTimeout(err):
			rej = s.timeoutRejection()
		case err != nil:
			return
		default:
			rej = s.handle(raw)
		}
		if rej != nil {
			s.log.Info("closing signaling connection", "code", rej.code, "reason", rej.reason)
			s.closeWith(rej.code, rej.reason)
			continue
		}
		if s.conn != nil && !s.closing.Load() {
			_ = s.ws.SetReadDeadline(s.srv.now().Add(s.srv.cfg.PongTimeout))
		}
	}
}

func (s *session) timeoutRejection() *rejection {
	if s.conn == nil {
		return reject(codeConnectTimeout, "CONNECT-TIMEOUT")
	}
	return reject(codePongTimeout, "PONG-TIMEOUT")
}

// handle dispatches one message.
func (s *session) handle(raw []byte) *rejection {
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil || env.Type == "" {
		return reject(codeMalformed, "MALFORMED-MESSAGE")
	}
	if s.conn == nil {
		switch env.Type {
		case "connect":
			return s.connect(raw)
		case "answer", "re-answer":
			return reject(codeUnexpected, "ANSWER-BEFORE-OFFER")
		default:
			return reject(codeUnexpected, "CONNECT-EXPECTED")
		}
	}
	switch env.Type {
	case "connect":
		return reject(codeUnexpected, "DUPLICATE-CONNECT")
	case "answer":
		return s.onAnswer(raw)
	case "re-answer":
		return s.onReAnswer(raw)
	case "candidate":
		s.onCandidate(raw)
	case "disconnect":
		s.closeWith(websocket.CloseNormalClosure, "TYPE-DISCONNECT")
	case "pong", "stats":
		// Receiving anything extended the read deadline.
	default:
		s.log.Debug("ignoring signaling message", "type", env.Type)
	}
	return nil
}

func (s *session) onAnswer(raw []byte) *rejection {
	if s.answered.Load() {
		return reject(codeUnexpected, "DUPLICATE-ANSWER")
	}
	var m sdpMessage
	if err := json.Unmarshal(raw, &m); err != nil || m.SDP == "" {
		return reject(codeMalformed, "MALFORMED-MESSAGE")
	}
	if err := s.conn.SetAnswer(m.SDP); err != nil {
		s.log.Warn("apply answer", "err", err)
		return reject(codeInternal, "INTERNAL-ERROR")
	}
	s.answered.Store(true)
	s.srv.established(s)
	return nil
}

func (s *session) onReAnswer(raw []byte) *rejection {
	var m sdpMessage
	if err := json.Unmarshal(raw, &m); err != nil || m.SDP == "" {
		return reject(codeMalformed, "MALFORMED-MESSAGE")
	}
	if !s.answered.Load() || !s.conn.AwaitingAnswer() {
		return reject(codeUnexpected, "UNEXPECTED-RE-ANSWER")
	}
	if err := s.conn.SetAnswer(m.SDP); errors.Is(err, sfu.ErrClosed) {
		// The connection ended while the client answered (it is leaving,
		// or the server closed it): its close has a reason already.
		s.log.Debug("re-answer after the connection ended", "err", err)
		return nil
	} else if err != nil {
		s.log.Warn("apply re-answer", "err", err)
		return reject(codeInternal, "INTERNAL-ERROR")
	}
	return nil
}

// onCandidate adds a trickled candidate; a bad candidate is logged, not
// fatal, as browsers trickle candidates the server cannot use.
func (s *session) onCandidate(raw []byte) {
	var m candidateMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		s.log.Debug("bad candidate message", "err", err)
		return
	}
	if err := s.conn.AddICECandidate(m.Candidate, m.SDPMid, m.SDPMLineIndex); err != nil {
		s.log.Debug("add candidate", "err", err)
	}
}

// pingLoop sends "ping" every PingInterval until teardown.
func (s *session) pingLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.srv.cfg.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
			s.send(pingMessage{Type: "ping"})
		}
	}
}

// teardown leaves the SFU, tells the channel, and stops the goroutines.
func (s *session) teardown() {
	close(s.done)
	if s.turnUser != "" {
		s.srv.cfg.TURN.Revoke(s.turnUser)
	}
	for _, t := range []*time.Timer{s.answerTimer, s.lifeTimer} {
		if t != nil {
			t.Stop()
		}
	}
	if s.conn != nil {
		s.srv.remove(s)
		reason, _ := s.reason.Load().(string)
		if err := s.conn.Close(); err != nil {
			s.log.Debug("close connection", "err", err)
		}
		s.srv.departed(s, reason)
	}
	s.out.close()
	s.wg.Wait()
	_ = s.ws.Close()
}

// ReOffer implements sfu.Peer.
func (s *session) ReOffer(sdp string) { s.deliver("signaling", sdpMessage{Type: "re-offer", SDP: sdp}) }

// Push implements sfu.Peer.
func (s *session) Push(data json.RawMessage) {
	s.deliver("push", pushMessage{Type: "push", Data: data})
}

// Disconnect implements sfu.Peer.
func (s *session) Disconnect(reason string) { s.closeWith(websocket.CloseNormalClosure, reason) }

var _ sfu.Peer = (*session)(nil)

// authContext bounds one Authenticate call by AuthTimeout and shutdown.
func (s *session) authContext() (context.Context, context.CancelFunc) { return s.srv.authTimeout() }

// authTimeout bounds one Authenticate call by AuthTimeout and shutdown.
func (srv *Server) authTimeout() (context.Context, context.CancelFunc) {
	return context.WithTimeout(srv.ctx, srv.cfg.AuthTimeout)
}
