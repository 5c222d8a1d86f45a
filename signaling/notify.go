package signaling

import (
	"encoding/json"
	"time"

	"github.com/kiroku-sfu/kiroku/sfu"
)

// participant is what signaling keeps per connection for notifies; it is
// stored in sfu.ConnectionInfo.Metadata.
type participant struct {
	authn  json.RawMessage // connect "metadata"
	authz  json.RawMessage // authenticator "metadata"
	notify json.RawMessage // signaling_notify_metadata
	extras Extras
	// clientAddr is the client's address as kiroku knows it (behind a
	// trusted proxy, the one it forwarded).
	clientAddr string
}

// Extras are the authenticator's per-connection settings that matter
// beyond signaling: event webhooks and recording.
type Extras struct {
	// EventMetadata is the auth webhook's event_metadata.
	EventMetadata json.RawMessage
	// RecordingBlock is the auth webhook's recording_block.
	RecordingBlock bool
	// Media are the connection's media settings (bit rates, codec
	// parameters) from its connect and the auth webhook.
	Media MediaSettings
}

// ExtrasOf returns the Extras of a connection this server admitted; the
// zero value for any other.
func ExtrasOf(ci sfu.ConnectionInfo) Extras { return participantOf(ci).extras }

// ClientAddressOf returns the client's IP address of a connection this
// server admitted (behind a trusted proxy, the one the proxy forwarded);
// "" for any other.
func ClientAddressOf(ci sfu.ConnectionInfo) string { return participantOf(ci).clientAddr }

func participantOf(ci sfu.ConnectionInfo) participant {
	if p, ok := ci.Metadata.(*participant); ok && p != nil {
		return *p
	}
	return participant{}
}

// notifyMessage is a "notify" of a connection.created/destroyed event.
type notifyMessage struct {
	Type                       string            `json:"type"`
	EventType                  string            `json:"event_type"`
	Timestamp                  string            `json:"timestamp"`
	Role                       sfu.Role          `json:"role"`
	SessionID                  string            `json:"session_id"`
	ClientID                   string            `json:"client_id"`
	BundleID                   string            `json:"bundle_id"`
	ConnectionID               string            `json:"connection_id"`
	Audio                      bool              `json:"audio"`
	Video                      bool              `json:"video"`
	AuthnMetadata              json.RawMessage   `json:"authn_metadata,omitempty"`
	AuthzMetadata              json.RawMessage   `json:"authz_metadata,omitempty"`
	Metadata                   json.RawMessage   `json:"metadata,omitempty"`
	Minutes                    int               `json:"minutes"`
	ChannelConnections         int               `json:"channel_connections"`
	ChannelSendrecvConnections int               `json:"channel_sendrecv_connections"`
	ChannelSendonlyConnections int               `json:"channel_sendonly_connections"`
	ChannelRecvonlyConnections int               `json:"channel_recvonly_connections"`
	TurnTransportType          string            `json:"turn_transport_type"`
	Data                       *[]notifyListItem `json:"data,omitempty"`
}

// notifyListItem is one existing participant in the joiner's "data".
type notifyListItem struct {
	ClientID      string          `json:"client_id"`
	ConnectionID  string          `json:"connection_id"`
	AuthnMetadata json.RawMessage `json:"authn_metadata,omitempty"`
	AuthzMetadata json.RawMessage `json:"authz_metadata,omitempty"`
	Metadata      json.RawMessage `json:"metadata,omitempty"`
}

// newNotify builds a notify about subject, counting members (which
// include the subject for connection.created).
func newNotify(event string, subject sfu.ConnectionInfo, members []sfu.ConnectionInfo, now time.Time) notifyMessage {
	p := participantOf(subject)
	n := notifyMessage{
		Type: "notify", EventType: event, Timestamp: now.UTC().Format("2006-01-02T15:04:05.000000Z"),
		Role: subject.Role, SessionID: subject.SessionID, ClientID: subject.ClientID,
		BundleID: subject.BundleID, ConnectionID: subject.ConnectionID,
		Audio: subject.Audio, Video: subject.Video,
		AuthnMetadata: p.authn, AuthzMetadata: p.authz, Metadata: p.notify,
		Minutes:           int(now.Sub(subject.CreatedAt) / time.Minute),
		TurnTransportType: "udp", ChannelConnections: len(members),
	}
	for _, m := range members {
		switch m.Role {
		case sfu.SendRecv:
			n.ChannelSendrecvConnections++
		case sfu.SendOnly:
			n.ChannelSendonlyConnections++
		case sfu.RecvOnly:
			n.ChannelRecvonlyConnections++
		}
	}
	return n
}

// participantList lists the members other than self, for the joiner.
func participantList(self sfu.ConnectionInfo, members []sfu.ConnectionInfo) *[]notifyListItem {
	list := []notifyListItem{}
	for _, m := range members {
		if m.ConnectionID == self.ConnectionID || m.BundleID == self.BundleID {
			continue
		}
		p := participantOf(m)
		list = append(list, notifyListItem{ClientID: m.ClientID, ConnectionID: m.ConnectionID,
			AuthnMetadata: p.authn, AuthzMetadata: p.authz, Metadata: p.notify})
	}
	return &list
}
