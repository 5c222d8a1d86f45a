package webhooks

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"net/http"
	"time"
)

// TimestampLayout is Sora's timestamp format: RFC 3339, UTC, microseconds.
const TimestampLayout = "2006-01-02T15:04:05.000000Z"

// Timestamp formats t as Sora does.
func Timestamp(t time.Time) string { return t.UTC().Format(TimestampLayout) }

// idEncoding is Crockford-style upper-case base32 without padding: 26
// characters for 16 random bytes, like Sora's ids.
var idEncoding = base32.NewEncoding("0123456789ABCDEFGHJKMNPQRSTVWXYZ").WithPadding(base32.NoPadding)

// NewID returns a random 26-character id.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return idEncoding.EncodeToString(b[:])
}

// Common holds the fields every webhook payload carries.
type Common struct {
	Type      string `json:"type,omitempty"`
	ID        string `json:"id"`
	Timestamp string `json:"timestamp"`
	Version   string `json:"version"`
	Label     string `json:"label"`
	NodeName  string `json:"node_name"`
}

// Common returns the common fields for a webhook of type typ sent now.
func (c *Client) Common(typ string) Common {
	return Common{Type: typ, ID: NewID(), Timestamp: Timestamp(c.now()), Version: c.cfg.Version,
		Label: c.cfg.Label, NodeName: c.cfg.NodeName}
}

// AuthReply is the auth webhook's reply: allowed or not, and the
// connection settings it overrides. Absent fields leave the client's
// values; Raw keeps the whole reply for fields not modelled here.
type AuthReply struct {
	Allowed                 bool            `json:"allowed"`
	Reason                  string          `json:"reason,omitempty"`
	ClientID                *string         `json:"client_id,omitempty"`
	BundleID                *string         `json:"bundle_id,omitempty"`
	Metadata                json.RawMessage `json:"metadata,omitempty"`
	EventMetadata           json.RawMessage `json:"event_metadata,omitempty"`
	SignalingNotifyMetadata json.RawMessage `json:"signaling_notify_metadata,omitempty"`
	RecordingBlock          *bool           `json:"recording_block,omitempty"`
	ConnectionLifetime      *int64          `json:"connection_lifetime,omitempty"`
	Audio                   json.RawMessage `json:"audio,omitempty"`
	AudioCodecType          *string         `json:"audio_codec_type,omitempty"`
	AudioBitRate            *int            `json:"audio_bit_rate,omitempty"`
	Video                   json.RawMessage `json:"video,omitempty"`
	VideoCodecType          *string         `json:"video_codec_type,omitempty"`
	VideoBitRate            *int            `json:"video_bit_rate,omitempty"`
	AudioOpusParams         json.RawMessage `json:"audio_opus_params,omitempty"`
	VideoVP9Params          json.RawMessage `json:"video_vp9_params,omitempty"`
	VideoAV1Params          json.RawMessage `json:"video_av1_params,omitempty"`
	VideoH264Params         json.RawMessage `json:"video_h264_params,omitempty"`
	Simulcast               *bool           `json:"simulcast,omitempty"`
	SimulcastRID            *string         `json:"simulcast_rid,omitempty"`
	DataChannelSignaling    *bool           `json:"data_channel_signaling,omitempty"`
	IgnoreDisconnectWS      *bool           `json:"ignore_disconnect_websocket,omitempty"`
	Spotlight               *bool           `json:"spotlight,omitempty"`
	SpotlightNumber         *int            `json:"spotlight_number,omitempty"`
	SpotlightFocusRID       *string         `json:"spotlight_focus_rid,omitempty"`
	SpotlightUnfocusRID     *string         `json:"spotlight_unfocus_rid,omitempty"`
}

// SessionCreatedReply is the session webhook's reply to session.created.
type SessionCreatedReply struct {
	SessionMetadata        json.RawMessage `json:"session_metadata,omitempty"`
	Recording              bool            `json:"recording,omitempty"`
	RecordingExpireTime    *int64          `json:"recording_expire_time,omitempty"`
	RecordingSplitOnly     *bool           `json:"recording_split_only,omitempty"`
	RecordingSplitDuration *int64          `json:"recording_split_duration,omitempty"`
	RecordingMetadata      json.RawMessage `json:"recording_metadata,omitempty"`
	RecordingFormat        *string         `json:"recording_format,omitempty"`
	// SpotlightNumber sets a spotlight channel's spotlight number.
	SpotlightNumber *int `json:"spotlight_number,omitempty"`
}

// Headers builds the Sora-style headers of a webhook: the type header for
// kind plus the session and connection ids when known.
func Headers(kind Kind, typ, sessionID, connectionID string) http.Header {
	h := http.Header{}
	switch kind {
	case Event:
		h.Set("sora-event-webhook-type", typ)
	case Session:
		h.Set("sora-session-webhook-type", typ)
	}
	if sessionID != "" {
		h.Set("sora-session-id", sessionID)
	}
	if connectionID != "" {
		h.Set("sora-connection-id", connectionID)
	}
	return h
}
