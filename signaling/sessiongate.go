package signaling

import (
	"context"
	"sync"
	"time"

	"github.com/kiroku-sfu/kiroku/sfu"
)

// SessionGate holds the connections of a new session before their offer
// (or, for WHIP and WHEP, their answer) until the session is ready: for
// Sora's session webhook, until the reply to session.created has been
// applied, so that a session it asks to record is recorded from the
// first packet and recording.started comes before the first offer.
type SessionGate interface {
	// AwaitSession returns once the session may go on, or when ctx ends.
	AwaitSession(ctx context.Context, channelID, sessionID string)
}

// SessionGates is a SessionGate whose holds are set by the party that
// prepares sessions: Hold when a session is created, the release it
// returns when the session is ready. A connection never waits longer
// than the bound given to NewSessionGates, released or not.
type SessionGates struct {
	max  time.Duration
	mu   sync.Mutex
	held map[string]chan struct{} // by session_id; closed on release
}

var _ SessionGate = (*SessionGates)(nil)

// NewSessionGates returns gates that hold a connection at most max.
func NewSessionGates(max time.Duration) *SessionGates {
	return &SessionGates{max: max, held: make(map[string]chan struct{})}
}

// Hold holds the session's connections until release is called (it may
// be called more than once) or the bound passes.
func (g *SessionGates) Hold(sessionID string) (release func()) {
	ch := make(chan struct{})
	g.mu.Lock()
	g.held[sessionID] = ch
	g.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			g.mu.Lock()
			if g.held[sessionID] == ch {
				delete(g.held, sessionID)
			}
			g.mu.Unlock()
			close(ch)
		})
	}
}

// AwaitSession implements SessionGate: it returns at once for a session
// that is not held.
func (g *SessionGates) AwaitSession(ctx context.Context, _, sessionID string) {
	g.mu.Lock()
	ch := g.held[sessionID]
	g.mu.Unlock()
	if ch == nil {
		return
	}
	t := time.NewTimer(g.max)
	defer t.Stop()
	select {
	case <-ch:
	case <-t.C:
	case <-ctx.Done():
	}
}

// awaitSession waits, before a connection's offer or answer, until its
// session is ready (Config.SessionGate), or the server shuts down.
func (srv *Server) awaitSession(ci sfu.ConnectionInfo) {
	if srv.cfg.SessionGate != nil {
		srv.cfg.SessionGate.AwaitSession(srv.ctx, ci.ChannelID, ci.SessionID)
	}
}
