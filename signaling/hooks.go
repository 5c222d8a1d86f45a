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
	// Media is what the connect asked for beyond on/off and the codec.
	Media MediaSettings
	// SimulcastRID is the simulcast layer the client asked to receive.
	SimulcastRID string
	// Spotlight is what the connect asked of spotlight.
	Spotlight SpotlightOptions
	// DataChannelSignaling and IgnoreDisconnectWebSocket are the
	// connect's; DataChannels its messaging channels, as sent.
	DataChannelSignaling, IgnoreDisconnectWebSocket bool
	DataChannels                                    json.RawMessage
	// Libwebrtc is the connect's "libwebrtc" (native SDKs).
	Libwebrtc string
	// Channel counts the channel's connections before this one joins;
	// the server fills it in.
	Channel ChannelCounts
	// Connect is the raw connect message, for fields not parsed here;
	// nil for WHIP and WHEP.
	Connect json.RawMessage
	// WHIP: the client publishes over WHIP; its bearer token, if any, is
	// Metadata's "access_token". WHEP likewise for a WHEP player.
	WHIP, WHEP bool
	// ClientAddress is the client's IP address (behind a trusted proxy,
	// the one it forwarded: clientaddr.go).
	ClientAddress string
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
	// Audio and Video, when not nil, switch the client's audio or video
	// on or off (audio, video).
	Audio, Video *bool
	// Media replaces the settings it gives (audio_bit_rate,
	// audio_opus_params, video_bit_rate, video_*_params).
	Media MediaSettings
	// Simulcast, when not nil, replaces the client's simulcast;
	// SimulcastRID, when set, the layer it receives.
	Simulcast    *bool
	SimulcastRID string
	// DataChannelSignaling and IgnoreDisconnectWebSocket, when not nil,
	// replace the client's.
	DataChannelSignaling, IgnoreDisconnectWebSocket *bool
	// Spotlight replaces the connect's spotlight fields it sets.
	Spotlight SpotlightOverride
}

// ChannelCounts counts a channel's connections by role.
type ChannelCounts struct {
	All, SendRecv, SendOnly, RecvOnly int
}

// countChannel counts members by role.
func countChannel(members []sfu.ConnectionInfo) ChannelCounts {
	c := ChannelCounts{All: len(members)}
	for _, m := range members {
		switch m.Role {
		case sfu.SendRecv:
			c.SendRecv++
		case sfu.SendOnly:
			c.SendOnly++
		case sfu.RecvOnly:
			c.RecvOnly++
		}
	}
	return c
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
	// Type is connection.created, connection.updated,
	// connection.destroyed or connection.failed.
	Type       string
	Time       time.Time
	Connection sfu.ConnectionInfo
	// Reason is why a connection was destroyed or failed (a close
	// reason).
	Reason string
	// APIReason is the reason given to the disconnect API, if any.
	APIReason string
	// Channel counts the channel's connections at the event.
	Channel ChannelCounts
	// Traffic is the connection's transport totals so far.
	Traffic sfu.Traffic
}

// EventSink receives connection events. HandleEvent must not block.
type EventSink interface {
	HandleEvent(e Event)
}

type nopEvents struct{}

// HandleEvent drops the event.
func (nopEvents) HandleEvent(Event) {}

// countedAuth fills AuthRequest.Channel from the SFU before asking the
// authenticator, for every kind of connect (WebSocket, WHIP, WHEP).
type countedAuth struct {
	inner Authenticator
	sfu   *sfu.SFU
}

// Authenticate counts the channel and asks the authenticator.
func (a countedAuth) Authenticate(ctx context.Context, r AuthRequest) (AuthResult, error) {
	r.Channel = countChannel(a.sfu.ChannelConnections(r.ChannelID))
	return a.inner.Authenticate(ctx, r)
}
