package signaling

import (
	"errors"
	"sync"
	"testing"
)

// fakeTURN issues numbered credentials and records revocations.
type fakeTURN struct {
	mu      sync.Mutex
	issued  []string
	revoked []string
	fail    bool
}

func (f *fakeTURN) URLs() []string { return []string{"turn:198.51.100.1:3478?transport=udp"} }

func (f *fakeTURN) Credentials(id string) (string, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail {
		return "", "", errors.New("no entropy")
	}
	f.issued = append(f.issued, id)
	return id, "secret-" + id, nil
}

func (f *fakeTURN) Revoke(user string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.revoked = append(f.revoked, user)
}

func (f *fakeTURN) revokedUsers() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.revoked...)
}

// TestOfferTURN checks the offer's config with a TURN server: the
// configured servers plus the TURN server with the connection's own
// credentials, relay only; the credentials are revoked when the
// connection ends; failing to issue them rejects the connect.
func TestOfferTURN(t *testing.T) {
	turn := &fakeTURN{}
	static := []ICEServer{{URLs: []string{"stun:192.0.2.1:3478"}}}
	ts := startServer(t, func(c *Config) { c.TURN, c.ICEServers = turn, static })
	ws := dial(t, ts.url)
	if err := ws.WriteMessage(1, []byte(connectMsg("turn", "recvonly"))); err != nil {
		t.Fatal(err)
	}
	offer := readType(t, ws, "offer")
	id := offer["connection_id"].(string)
	cfg := offer["config"].(map[string]any)
	servers := cfg["iceServers"].([]any)
	if cfg["iceTransportPolicy"] != "relay" || len(servers) != 2 {
		t.Fatalf("config %v, want relay and two servers", cfg)
	}
	s := servers[1].(map[string]any)
	if s["username"] != id || s["credential"] != "secret-"+id || s["urls"].([]any)[0] != turn.URLs()[0] {
		t.Fatalf("TURN entry %v, want the connection's credentials", s)
	}
	_ = ws.Close()
	eventually(t, "credentials revoked", func() bool {
		r := turn.revokedUsers()
		return len(r) == 1 && r[0] == id
	})

	turn.mu.Lock()
	turn.fail = true
	turn.mu.Unlock()
	ws = dial(t, ts.url)
	if err := ws.WriteMessage(1, []byte(connectMsg("turn", "recvonly"))); err != nil {
		t.Fatal(err)
	}
	if ce, _ := readUntilClose(t, ws); ce == nil || ce.Code != codeInternal {
		t.Fatalf("close %v, want %d when credentials cannot be issued", ce, codeInternal)
	}
}
