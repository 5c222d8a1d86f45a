package signaling

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"time"

	"github.com/gorilla/websocket"
)

const (
	writeTimeout = 10 * time.Second
	// closeGrace is how long the server waits for the client's close
	// frame after sending its own.
	closeGrace = 2 * time.Second
	// maxReasonBytes is the longest close reason a close frame carries.
	maxReasonBytes = 123
)

// outFrame is one queued message or, with code set, the close frame.
type outFrame struct {
	data   []byte
	code   int
	reason string
}

// readMessage reads one text message of at most limit bytes. io.EOF-like
// errors mean the connection is gone; a *rejection means the client broke
// the protocol.
func readMessage(ws *websocket.Conn, limit int64) ([]byte, error) {
	typ, r, err := ws.NextReader()
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, reject(codeTooLarge, "MESSAGE-TOO-LARGE")
	}
	if typ != websocket.TextMessage {
		return nil, reject(codeMalformed, "MALFORMED-MESSAGE")
	}
	return data, nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// writeLoop sends queued frames until the outbox is closed. After the
// close frame it only drains.
func (s *session) writeLoop() {
	defer s.wg.Done()
	closed := false
	for {
		f, ok := s.out.next()
		if !ok {
			return
		}
		if closed {
			continue
		}
		deadline := time.Now().Add(writeTimeout)
		if f.code != 0 {
			closed = true
			msg := websocket.FormatCloseMessage(f.code, truncateReason(f.reason))
			_ = s.ws.WriteControl(websocket.CloseMessage, msg, deadline)
			_ = s.ws.SetReadDeadline(time.Now().Add(closeGrace))
			continue
		}
		_ = s.ws.SetWriteDeadline(deadline)
		if err := s.ws.WriteMessage(websocket.TextMessage, f.data); err != nil {
			closed = true
			_ = s.ws.UnderlyingConn().Close()
		}
	}
}

// send queues a JSON message; it never blocks. A client whose outbox is
// full is disconnected.
func (s *session) send(v any) {
	data, err := json.Marshal(v)
	if err != nil {
		s.log.Error("encode message", "err", err)
		return
	}
	if !s.enqueue(outFrame{data: data}) {
		s.closeWith(codeTooSlow, "TOO-SLOW")
	}
}

func (s *session) enqueue(f outFrame) bool { return s.out.push(f) }

// closeWith starts a server-side close with code and reason; only the
// first call counts.
func (s *session) closeWith(code int, reason string) {
	s.closeOnce.Do(func() {
		s.closing.Store(true)
		s.reason.Store(reason)
		if code >= 4000 {
			s.srv.counters.rejected.Add(1)
		}
		s.closeDataChannelSignaling(code, reason)
		s.enqueue(outFrame{code: code, reason: reason}) // a close frame always fits
	})
}

// truncateReason cuts a close reason to what a close frame can carry,
// at a rune boundary.
func truncateReason(r string) string {
	if len(r) <= maxReasonBytes {
		return r
	}
	cut := maxReasonBytes
	for cut > 0 && r[cut]&0xc0 == 0x80 {
		cut--
	}
	return r[:cut]
}
