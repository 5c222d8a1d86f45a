package archive

import (
	"encoding/json"

	"github.com/kiroku-sfu/kiroku/webhooks"
)

// WebhookNotifier sends the engine's webhooks through a webhooks.Client
// in Sora's envelope. It never waits: the client queues and retries.
type WebhookNotifier struct {
	Client *webhooks.Client
}

var _ Notifier = WebhookNotifier{}

// eventEnvelope is an event webhook: common fields, the connection's ids
// and the event's data.
type eventEnvelope struct {
	webhooks.Common
	ChannelID     string          `json:"channel_id"`
	SessionID     string          `json:"session_id"`
	ClientID      string          `json:"client_id"`
	BundleID      string          `json:"bundle_id"`
	ConnectionID  string          `json:"connection_id"`
	Role          string          `json:"role,omitempty"`
	EventMetadata json.RawMessage `json:"event_metadata,omitempty"`
	Data          any             `json:"data"`
}

// sessionEnvelope is a session webhook about recording.
type sessionEnvelope struct {
	webhooks.Common
	ChannelID string `json:"channel_id"`
	SessionID string `json:"session_id"`
	Data      any    `json:"data"`
}

// Event sends an event webhook about connection c.
func (w WebhookNotifier) Event(typ string, c Connection, channelID, sessionID string, data any) {
	env := eventEnvelope{Common: w.Client.Common(typ), ChannelID: channelID, SessionID: sessionID,
		ClientID: c.ClientID, BundleID: c.BundleID, ConnectionID: c.ConnectionID, Role: c.Role,
		EventMetadata: c.EventMetadata, Data: data}
	w.Client.Send(webhooks.Event, typ, env, webhooks.Headers(webhooks.Event, typ, sessionID, c.ConnectionID))
}

// Session sends a session webhook.
func (w WebhookNotifier) Session(typ, channelID, sessionID string, data any) {
	env := sessionEnvelope{Common: w.Client.Common(typ), ChannelID: channelID, SessionID: sessionID, Data: data}
	w.Client.Send(webhooks.Session, typ, env, webhooks.Headers(webhooks.Session, typ, sessionID, ""))
}

// OptionsFromReply turns the session.created webhook reply into recording
// options, or nil when the reply does not ask for recording.
func OptionsFromReply(r webhooks.SessionCreatedReply) *Options {
	if !r.Recording {
		return nil
	}
	o := &Options{Metadata: r.RecordingMetadata}
	if r.RecordingExpireTime != nil {
		o.ExpireTime = *r.RecordingExpireTime
	}
	if r.RecordingSplitOnly != nil {
		o.SplitOnly = *r.RecordingSplitOnly
	}
	if r.RecordingSplitDuration != nil {
		o.SplitDuration = *r.RecordingSplitDuration
	}
	if r.RecordingFormat != nil {
		o.Format = Format(*r.RecordingFormat)
	}
	return o
}
