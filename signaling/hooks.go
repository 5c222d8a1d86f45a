package signaling

import (
	"context"
	"encoding/json"
	"time"

	"github.com/kiroku-sfu/kiroku/sfu"
)

// AuthRequest is what an Authenticator decides on: the parsed connect
// message plus the server-assigned connection_id.
type AuthRequest struct {
	ChannelID    string
	ConnectionID string
	ClientID     string // as sent; empty when absent
	BundleID     string // as sent; empty when absent
	Role         sfu.Role
	Audio, Video bool
	VideoCodec   sfu.Codec
	// Simulcast is what the client asked for.
	Simulcast   bool
	Metadata    json.RawMessage // connect "metadata", nil when absent
	SoraClient  string
	Environment string
	// Connect is the raw connect message, for fields not parsed here;
	// nil for WHIP and WHEP.
	Connect json.RawMessage
	// WHIP: the client publishes over WHIP; its bearer token, if any, is
	// Metadata's "access_token". WHEP likewise for a WHEP player.
	WHIP, WHEP bool
}

// AuthResult is an Authenticator's decision. Empty fields keep what the
// client asked for.
type AuthResult struct {
	Allowed bool
	Reason  string // why not, sent as the close reason
	// ClientID and BundleID override the client's values.
	ClientID, BundleID string
	// Metadata is sent in the offer and as authz_metadata in notifies.
	Metadata json.RawMessage
	// SignalingNotifyMetadata is sent as "metadata" in notifies.
	SignalingNotifyMetadata json.RawMessage
	// Lifetime, when positive, ends the connection with
	// LIFETIME-EXPIRED after this long (connection_lifetime).
	Lifetime time.Duration
	// EventMetadata is repeated in the connection's event webhooks.
	EventMetadata json.RawMessage
	// RecordingBlock keeps the connection out of session recordings.
	RecordingBlock bool
	// VideoCodec, when set, replaces the codec the client asked to send
	// (video_codec_type).
	VideoCodec sfu.Codec
}

// Authenticator decides whether a connect is admitted, e.g. by calling
// Sora's auth webhook. An error denies the connection.
type Authenticator interface {
	Authenticate(ctx context.Context, req AuthRequest) (AuthResult, error)
}

// AllowAll admits every connection unchanged.
type AllowAll struct{}

// Authenticate allows the request.
func (AllowAll) Authenticate(context.Context, AuthRequest) (AuthResult, error) {
	return AuthResult{Allowed: true}, nil
}

// Event is a connection lifecycle event, e.g. for the event webhook.
type Event struct {
	Type       string // "connection.created" or "connection.destroyed"
	Time       time.Time
	Connection sfu.ConnectionInfo
	// Reason is why a connection was destroyed (a close reason).
	Reason string
	// APIReason is the reason given to the disconnect API, if any.
	APIReason string
}

// EventSink receives connection events. HandleEvent must not block.
type EventSink interface {
	HandleEvent(e Event)
}

type nopEvents struct{}

// HandleEvent drops the event.
func (nopEvents) HandleEvent(Event) {}
