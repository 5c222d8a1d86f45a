package signaling

import "github.com/kiroku-sfu/kiroku/sfu"

// SpotlightOptions are a connect's spotlight fields.
type SpotlightOptions struct {
	On                   bool
	Number               int    // 0: the default
	FocusRID, UnfocusRID string // "" for the defaults
}

// validSpotlightRID accepts a spotlight rid ("none", "r0", "r1", "r2"),
// or none given.
func validSpotlightRID(rid string) bool { return rid == "none" || validRID(rid) }

var _ sfu.SpotlightPeer = (*session)(nil)

// SpotlightChanged implements sfu.SpotlightPeer: the client gets
// spotlight.unfocused for a publisher that lost the focus, and
// spotlight.focused followed by spotlight.changed for one that gained it
// (spotlight_id is the focused publisher's connection_id); see
// docs/spotlight.md.
func (s *session) SpotlightChanged(ch sfu.SpotlightChange) {
	if !s.answered.Load() {
		return
	}
	ts := s.srv.now().UTC().Format("2006-01-02T15:04:05.000000Z")
	n := map[string]any{"type": "notify", "timestamp": ts, "client_id": ch.ClientID,
		"connection_id": ch.ConnectionID, "audio": ch.Audio, "video": ch.Video, "fixed": ch.Fixed}
	if !ch.Focused {
		n["event_type"] = "spotlight.unfocused"
		s.deliver("notify", n)
		return
	}
	n["event_type"] = "spotlight.focused"
	s.deliver("notify", n)
	changed := make(map[string]any, len(n)+1)
	for k, v := range n {
		changed[k] = v
	}
	changed["event_type"], changed["spotlight_id"] = "spotlight.changed", ch.ConnectionID
	s.deliver("notify", changed)
}
