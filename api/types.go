package api

import (
	"encoding/json"
	"errors"
)

// Mode is the server's admission mode (Sora's ChangeMode).
type Mode string

// Admission modes.
const (
	ModeNormal             Mode = "normal"
	ModeBlockNewSession    Mode = "block_new_session"
	ModeBlockNewConnection Mode = "block_new_connection"
)

// Valid reports whether m is one of the three modes.
func (m Mode) Valid() bool {
	return m == ModeNormal || m == ModeBlockNewSession || m == ModeBlockNewConnection
}

// Errors a Backend wraps to choose the HTTP status.
var (
	// ErrNotFound: the channel, session, connection or client does not exist (404).
	ErrNotFound = errors.New("not found")
	// ErrConflict: the request contradicts the current state (409).
	ErrConflict = errors.New("conflict")
	// ErrInvalid: the request is well-formed JSON but its values are not acceptable (400).
	ErrInvalid = errors.New("invalid request")
)

// Connection is one connection as ListConnections, ListChannelConnections
// and the session object report it. A session object also lists the
// connections that left it, with their connection_destroyed_timestamp;
// it is null for live ones.
type Connection struct {
	Role                         string          `json:"role"`
	ChannelID                    string          `json:"channel_id"`
	SessionID                    string          `json:"session_id"`
	ClientID                     string          `json:"client_id"`
	BundleID                     string          `json:"bundle_id"`
	ConnectionID                 string          `json:"connection_id"`
	Multistream                  bool            `json:"multistream"`
	Simulcast                    bool            `json:"simulcast"`
	Spotlight                    bool            `json:"spotlight"`
	Audio                        bool            `json:"audio"`
	AudioCodecType               string          `json:"audio_codec_type,omitempty"`
	Video                        bool            `json:"video"`
	VideoCodecType               string          `json:"video_codec_type,omitempty"`
	VideoBitRate                 int             `json:"video_bit_rate,omitempty"`
	VideoVP9Params               json.RawMessage `json:"video_vp9_params,omitempty"`
	VideoAV1Params               json.RawMessage `json:"video_av1_params,omitempty"`
	VideoH264Params              json.RawMessage `json:"video_h264_params,omitempty"`
	AudioBitRate                 int             `json:"audio_bit_rate,omitempty"`
	RecordingBlock               bool            `json:"recording_block"`
	Metadata                     json.RawMessage `json:"metadata,omitempty"`
	ConnectionCreatedTimestamp   string          `json:"connection_created_timestamp"`
	ConnectionDestroyedTimestamp *string         `json:"connection_destroyed_timestamp"`
	// ClientAddress is kiroku's own: the client's IP address (behind a
	// trusted reverse proxy, the one it forwarded).
	ClientAddress string `json:"client_address,omitempty"`
}

// Recording is the `recording` object of a session that is being recorded.
type Recording struct {
	RecordingID       string          `json:"recording_id"`
	RecordingMetadata json.RawMessage `json:"recording_metadata,omitempty"`
	ExpireTime        int64           `json:"expire_time"`
	ExpiredAt         int64           `json:"expired_at,omitempty"`
	SplitDuration     int64           `json:"split_duration,omitempty"`
	SplitOnly         bool            `json:"split_only"`
	StartTimestamp    string          `json:"start_timestamp"`
	Format            string          `json:"format"`
}

// Session is Sora's session object (GetSession, ListSessions).
type Session struct {
	Label            string          `json:"label"`
	NodeName         string          `json:"node_name"`
	Version          string          `json:"version"`
	ChannelID        string          `json:"channel_id"`
	SessionID        string          `json:"session_id"`
	SessionMetadata  json.RawMessage `json:"session_metadata,omitempty"`
	CreatedTime      int64           `json:"created_time"`
	CreatedTimestamp string          `json:"created_timestamp"`
	Multistream      bool            `json:"multistream"`
	Spotlight        bool            `json:"spotlight"`
	MaxConnections   int             `json:"max_connections"`
	TotalConnections int             `json:"total_connections"`
	Connections      []Connection    `json:"connections,omitempty"`
	Recording        *Recording      `json:"recording,omitempty"`
	// ExternalSignalingURL is the holding node's signaling URL, in a
	// cluster only.
	ExternalSignalingURL string `json:"external_signaling_url,omitempty"`
}

// StartRecordingRequest is Sora_20231220.StartRecording's body.
type StartRecordingRequest struct {
	ChannelID     string          `json:"channel_id"`
	ExpireTime    *int64          `json:"expire_time,omitempty"`
	SplitDuration *int64          `json:"split_duration,omitempty"`
	SplitOnly     *bool           `json:"split_only,omitempty"`
	Metadata      json.RawMessage `json:"metadata,omitempty"`
	Format        *string         `json:"format,omitempty"`
}
