package signaling

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

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

// authPayload is the auth webhook request.
type authPayload struct {
	webhooks.Common
	Role         sfu.Role        `json:"role"`
	ChannelID    string          `json:"channel_id"`
	ClientID     string          `json:"client_id,omitempty"`
	BundleID     string          `json:"bundle_id,omitempty"`
	ConnectionID string          `json:"connection_id"`
	Multistream  bool            `json:"multistream"`
	Simulcast    bool            `json:"simulcast"`
	Spotlight    bool            `json:"spotlight"`
	Audio        bool            `json:"audio"`
	Video        bool            `json:"video"`
	VideoCodec   sfu.Codec       `json:"video_codec_type,omitempty"`
	Metadata     json.RawMessage `json:"metadata,omitempty"`
	SoraClient   string          `json:"sora_client,omitempty"`
	Environment  string          `json:"environment,omitempty"`
	WHIP         bool            `json:"whip,omitempty"`
	WHEP         bool            `json:"whep,omitempty"`
}

// Authenticate calls the auth webhook; any failure denies.
func (w *Webhooks) Authenticate(ctx context.Context, r AuthRequest) (AuthResult, error) {
	if !w.client.Configured(webhooks.Auth) {
		return AuthResult{Allowed: true}, nil
	}
	p := authPayload{Common: w.client.Common(""), Role: r.Role, ChannelID: r.ChannelID, ClientID: r.ClientID,
		BundleID: r.BundleID, ConnectionID: r.ConnectionID, Multistream: true, Simulcast: r.Simulcast,
		Audio: r.Audio, Video: r.Video,
		VideoCodec: r.VideoCodec, Metadata: r.Metadata, SoraClient: r.SoraClient, Environment: r.Environment,
		WHIP: r.WHIP, WHEP: r.WHEP}
	var reply webhooks.AuthReply
	err := w.client.Call(ctx, webhooks.Auth, "auth", p, webhooks.Headers(webhooks.Auth, "", "", r.ConnectionID), &reply)
	if err != nil {
		return AuthResult{}, fmt.Errorf("auth webhook: %w", err)
	}
	res := AuthResult{Allowed: reply.Allowed, Reason: reply.Reason, Metadata: reply.Metadata,
		SignalingNotifyMetadata: reply.SignalingNotifyMetadata, EventMetadata: reply.EventMetadata,
		RecordingBlock: reply.RecordingBlock != nil && *reply.RecordingBlock}
	if reply.ClientID != nil {
		res.ClientID = *reply.ClientID
	}
	if reply.BundleID != nil {
		res.BundleID = *reply.BundleID
	}
	if reply.VideoCodecType != nil {
		c, err := sfu.ParseCodec(*reply.VideoCodecType)
		if err != nil {
			return AuthResult{}, fmt.Errorf("auth webhook reply: %w", err)
		}
		res.VideoCodec = c
	}
	if reply.ConnectionLifetime != nil && *reply.ConnectionLifetime > 0 {
		res.Lifetime = time.Duration(*reply.ConnectionLifetime) * time.Second
	}
	return res, nil
}

// eventPayload is an event webhook request.
type eventPayload struct {
	webhooks.Common
	Role          sfu.Role        `json:"role"`
	ChannelID     string          `json:"channel_id"`
	SessionID     string          `json:"session_id"`
	ClientID      string          `json:"client_id"`
	BundleID      string          `json:"bundle_id"`
	ConnectionID  string          `json:"connection_id"`
	Multistream   bool            `json:"multistream"`
	Simulcast     bool            `json:"simulcast"`
	Spotlight     bool            `json:"spotlight"`
	EventMetadata json.RawMessage `json:"event_metadata,omitempty"`
	Data          map[string]any  `json:"data"`
}

// HandleEvent queues an event webhook.
func (w *Webhooks) HandleEvent(e Event) {
	c := e.Connection
	data := map[string]any{"audio": c.Audio, "video": c.Video,
		"created_time": c.CreatedAt.Unix(), "created_timestamp": webhooks.Timestamp(c.CreatedAt)}
	if e.Type == "connection.destroyed" {
		data["destroyed_time"] = e.Time.Unix()
		data["destroyed_timestamp"] = webhooks.Timestamp(e.Time)
		data["reason"] = e.Reason
		if e.APIReason != "" {
			data["disconnect_api_reason"] = e.APIReason
		}
		data["minutes"] = int(e.Time.Sub(c.CreatedAt) / time.Minute)
	}
	p := eventPayload{Common: w.client.Common(e.Type), Role: c.Role, ChannelID: c.ChannelID, SessionID: c.SessionID,
		ClientID: c.ClientID, BundleID: c.BundleID, ConnectionID: c.ConnectionID, Multistream: true, Simulcast: c.Simulcast,
		EventMetadata: ExtrasOf(c).EventMetadata, Data: data}
	w.client.Send(webhooks.Event, e.Type, p, webhooks.Headers(webhooks.Event, e.Type, c.SessionID, c.ConnectionID))
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
		Multistream: true, CreatedTime: s.CreatedAt.Unix(), CreatedTimestamp: webhooks.Timestamp(s.CreatedAt)}
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
