package e2e

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/kiroku-sfu/kiroku/sfu"
	"github.com/kiroku-sfu/kiroku/signaling"
)

// metadataAuth stands in for the auth webhook: a connect whose metadata
// has "deny" is refused with that text as the reason.
type metadataAuth struct{}

func (metadataAuth) Authenticate(_ context.Context, r signaling.AuthRequest) (signaling.AuthResult, error) {
	var m struct {
		Deny string `json:"deny"`
	}
	_ = json.Unmarshal(r.Metadata, &m)
	if m.Deny != "" {
		return signaling.AuthResult{Allowed: false, Reason: m.Deny}, nil
	}
	return signaling.AuthResult{Allowed: true, Metadata: json.RawMessage(`{"authz":true}`)}, nil
}

// observer records the SFU's session events.
type observer struct {
	mu       sync.Mutex
	vanished int
	created  map[string]int
}

func (o *observer) SessionCreated(s sfu.SessionInfo) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.created == nil {
		o.created = map[string]int{}
	}
	o.created[s.ChannelID]++
}

func (o *observer) SessionDestroyed(sfu.SessionInfo) {}

func (o *observer) SessionsVanished(sfu.Mode) {
	o.mu.Lock()
	o.vanished++
	o.mu.Unlock()
}

func (o *observer) vanishedCount() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.vanished
}
