package signaling

import (
	"context"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/kiroku-sfu/kiroku/sfu"
)

// holdingObserver holds every new session for hold, as the recording
// hooks do while session.created is answered.
type holdingObserver struct {
	gates *SessionGates
	hold  time.Duration
}

func (o *holdingObserver) SessionCreated(s sfu.SessionInfo) {
	time.AfterFunc(o.hold, o.gates.Hold(s.SessionID))
}

func (o *holdingObserver) SessionDestroyed(sfu.SessionInfo) {}
func (o *holdingObserver) SessionsVanished(sfu.Mode)        {}

// TestSessionGateHoldsOffer checks that the first connection of a held
// session gets its offer only once the session is released, and that
// one joining a ready session is not held.
func TestSessionGateHoldsOffer(t *testing.T) {
	const hold = 400 * time.Millisecond
	obs := &holdingObserver{gates: NewSessionGates(5 * time.Second), hold: hold}
	ts := startServerWith(t, obs, func(c *Config) { c.SessionGate = obs.gates })
	offerAfter := func() time.Duration {
		ws := dial(t, ts.url)
		start := time.Now()
		if err := ws.WriteMessage(websocket.TextMessage, []byte(connectMsg("gated", "recvonly"))); err != nil {
			t.Fatal(err)
		}
		readType(t, ws, "offer")
		return time.Since(start)
	}
	if took := offerAfter(); took < hold {
		t.Errorf("first connection's offer after %v, before the session was released (%v)", took, hold)
	}
	if took := offerAfter(); took >= hold {
		t.Errorf("a connection to a ready session waited %v", took)
	}
}

// TestSessionGatesBound checks the gates' bound, release and
// cancellation.
func TestSessionGatesBound(t *testing.T) {
	for _, tc := range []struct {
		name       string
		release    time.Duration // 0: never
		cancel     time.Duration // 0: never
		hold       bool
		atLeast    time.Duration
		atMost     time.Duration
		releaseTwo bool
	}{
		{name: "not held", atMost: 50 * time.Millisecond},
		{name: "released", hold: true, release: 100 * time.Millisecond, atLeast: 100 * time.Millisecond, atMost: 250 * time.Millisecond, releaseTwo: true},
		{name: "bound", hold: true, atLeast: 300 * time.Millisecond, atMost: 500 * time.Millisecond},
		{name: "canceled", hold: true, cancel: 100 * time.Millisecond, atLeast: 100 * time.Millisecond, atMost: 250 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewSessionGates(300 * time.Millisecond)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.hold {
				release := g.Hold("S")
				if tc.release > 0 {
					time.AfterFunc(tc.release, release)
				}
				if tc.releaseTwo {
					time.AfterFunc(tc.release, release)
				}
			}
			if tc.cancel > 0 {
				time.AfterFunc(tc.cancel, cancel)
			}
			start := time.Now()
			g.AwaitSession(ctx, "ch", "S")
			if took := time.Since(start); took < tc.atLeast || took > tc.atMost {
				t.Errorf("waited %v, want %v to %v", took, tc.atLeast, tc.atMost)
			}
		})
	}
}
