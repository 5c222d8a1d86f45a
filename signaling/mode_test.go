package signaling

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/kiroku-sfu/kiroku/sfu"
)

// countingAuth allows everyone and counts the calls.
type countingAuth struct{ calls atomic.Int64 }

func (a *countingAuth) Authenticate(context.Context, AuthRequest) (AuthResult, error) {
	a.calls.Add(1)
	return AuthResult{Allowed: true}, nil
}

// TestModeCheckedBeforeAuth checks that a connect the mode blocks is
// refused without asking the authenticator: a blocked node puts no load
// on the auth webhook.
func TestModeCheckedBeforeAuth(t *testing.T) {
	auth := &countingAuth{}
	ts := startServer(t, func(c *Config) { c.Authenticator = auth })
	for _, tc := range []struct {
		mode   sfu.Mode
		code   int
		reason string
	}{
		{sfu.ModeBlockNewConnection, 4030, "BLOCKED-NEW-CONNECTION"},
		{sfu.ModeBlockNewSession, 4031, "BLOCKED-NEW-SESSION"},
	} {
		t.Run(string(tc.mode), func(t *testing.T) {
			if err := ts.sfu.SetMode(tc.mode); err != nil {
				t.Fatal(err)
			}
			ws := dial(t, ts.url)
			if err := ws.WriteMessage(websocket.TextMessage, []byte(connectMsg("blocked", "recvonly"))); err != nil {
				t.Fatal(err)
			}
			ce, _ := readUntilClose(t, ws)
			if ce.Code != tc.code || ce.Text != tc.reason {
				t.Fatalf("close %d %q, want %d %q", ce.Code, ce.Text, tc.code, tc.reason)
			}
			if n := auth.calls.Load(); n != 0 {
				t.Fatalf("the authenticator was asked %d times for a blocked connect", n)
			}
		})
	}
}
