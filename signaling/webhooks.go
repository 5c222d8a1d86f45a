package signaling

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/kiroku-sfu/kiroku/sfu"
	"github.com/kiroku-sfu/kiroku/webhooks"
)

// WebhookClient is what Webhooks needs from *webhooks.Client.
type WebhookClient interface {
	Call(ctx context.Context, kind webhooks.Kind, typ string, payload any, headers http.Header, reply any) error
	CallRetrying(ctx context.Context, kind webhooks.Kind, typ string, payload any, headers http.Header,
		reply any, stillWanted func() bool) error
	Send(kind webhooks.Kind, typ string, payload any, headers http.Header) bool
	Common(typ string) webhooks.Common
	Configured(kind webhooks.Kind) bool
}

// WebhookOptions are the sora.conf keys of Sora's webhooks that shape
// what is sent rather than how.
type WebhookOptions struct {
	// IgnoreSessionVanished suppresses session.vanished.
	IgnoreSessionVanished bool `conf:"ignore_session_vanished_webhook"`
}

// Webhooks turns signaling and SFU events into Sora's webhooks: it is an
// Authenticator (auth webhook; allow-all when no URL is configured), an
// EventSink (event webhook) and an sfu.Observer (session webhook). Only the
// auth call waits; everything else is queued by the client.
type Webhooks struct {
	client WebhookClient
	opts   WebhookOptions
}

var (
	_ Authenticator = (*Webhooks)(nil)
	_ EventSink     = (*Webhooks)(nil)
	_ sfu.Observer  = (*Webhooks)(nil)
)

// NewWebhooks returns the adapter for client.
func NewWebhooks(client WebhookClient, opts WebhookOptions) *Webhooks {
	return &Webhooks{client: client, opts: opts}
}

// sessionPayload is a session webhook request.
type sessionPayload struct {
	webhooks.Common
	ChannelID          string `json:"channel_id"`
	SessionID          string `json:"session_id"`
	Multistream        bool   `json:"multistream"`
	Spotlight          bool   `json:"spotlight"`
	CreatedTime        int64  `json:"created_time"`
	CreatedTimestamp   string `json:"created_timestamp"`
	DestroyedTime      int64  `json:"destroyed_time,omitempty"`
	DestroyedTimestamp string `json:"destroyed_timestamp,omitempty"`
	MaxConnections     int    `json:"max_connections,omitempty"`
	TotalConnections   int    `json:"total_connections,omitempty"`
	// SessionMetadata is session.created's reply's, in session.destroyed.
	SessionMetadata json.RawMessage `json:"session_metadata,omitempty"`
}

func (w *Webhooks) sessionPayload(typ string, s sfu.SessionInfo) sessionPayload {
	p := sessionPayload{Common: w.client.Common(typ), ChannelID: s.ChannelID, SessionID: s.SessionID,
		Multistream: true, Spotlight: s.Spotlight, CreatedTime: s.CreatedAt.Unix(), CreatedTimestamp: webhooks.Timestamp(s.CreatedAt)}
	if !s.DestroyedAt.IsZero() {
		p.DestroyedTime, p.DestroyedTimestamp = s.DestroyedAt.Unix(), webhooks.Timestamp(s.DestroyedAt)
		p.MaxConnections, p.TotalConnections = s.MaxConnections, s.TotalConnections
		p.SessionMetadata = s.Metadata
	}
	return p
}

func (w *Webhooks) sendSession(typ string, s sfu.SessionInfo) {
	p := w.sessionPayload(typ, s)
	w.client.Send(webhooks.Session, typ, p, webhooks.Headers(webhooks.Session, typ, s.SessionID, ""))
}

// SessionCreated queues session.created without reading its reply. A
// server that records calls CallSessionCreated instead.
func (w *Webhooks) SessionCreated(s sfu.SessionInfo) { w.sendSession("session.created", s) }

// CallSessionCreated sends session.created and returns its reply (the
// recording settings). A failed call is retried like the other session
// webhooks (same id, backoff, webhook_max_retries) until ctx ends or
// stillWanted reports false (the session is gone). Without a session
// webhook URL it returns an empty reply and no error.
func (w *Webhooks) CallSessionCreated(ctx context.Context, s sfu.SessionInfo, stillWanted func() bool) (webhooks.SessionCreatedReply, error) {
	var reply webhooks.SessionCreatedReply
	if !w.client.Configured(webhooks.Session) {
		return reply, nil
	}
	const typ = "session.created"
	err := w.client.CallRetrying(ctx, webhooks.Session, typ, w.sessionPayload(typ, s),
		webhooks.Headers(webhooks.Session, typ, s.SessionID, ""), &reply, stillWanted)
	if err != nil {
		return reply, fmt.Errorf("session.created webhook: %w", err)
	}
	return reply, nil
}

// SessionDestroyed queues session.destroyed.
func (w *Webhooks) SessionDestroyed(s sfu.SessionInfo) { w.sendSession("session.destroyed", s) }

// SessionsVanished queues session.vanished unless it is switched off.
func (w *Webhooks) SessionsVanished(sfu.Mode) {
	if w.opts.IgnoreSessionVanished {
		return
	}
	w.client.Send(webhooks.Session, "session.vanished", w.client.Common("session.vanished"),
		webhooks.Headers(webhooks.Session, "session.vanished", "", ""))
}
