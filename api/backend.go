package api

import (
	"context"
	"encoding/json"
)

// Backend is what the HTTP API needs from the SFU. node adapts the
// signaling and sfu packages to it, so this package depends on neither.
// Errors wrap ErrNotFound, ErrConflict or ErrInvalid to pick the status;
// any other error is a 500.
type Backend interface {
	Mode() Mode
	SetMode(Mode) error
	// Connections lists live connections, of one channel or of all when
	// channelID is "".
	Connections(channelID string) []Connection
	// Sessions lists live sessions with their connections.
	Sessions() []Session
	// Session returns one channel's live session; sessionID may be "".
	Session(channelID, sessionID string) (Session, error)
	// DisconnectChannel closes every connection of a channel with
	// DISCONNECTED-API; reason is passed to the connection.destroyed webhook.
	DisconnectChannel(ctx context.Context, channelID, reason string) error
	DisconnectConnection(ctx context.Context, channelID, connectionID, reason string) error
	DisconnectClient(ctx context.Context, channelID, clientID, reason string) error
	// PushChannel / PushConnection send {"type":"push","data":data}.
	PushChannel(channelID string, data json.RawMessage) error
	PushConnection(channelID, connectionID string, data json.RawMessage) error
	// RequestKeyFrame asks a publisher connection for a keyframe (PLI).
	RequestKeyFrame(channelID, connectionID string) error
	// RequestSimulcastRID moves the receiver to the simulcast layer rid
	// of the sender's video, or of every sender's when sender is empty.
	// An unknown rid is ErrInvalid.
	RequestSimulcastRID(channelID, receiverID, senderID, rid string) error
	// TerminateSession disconnects every connection of the session.
	TerminateSession(ctx context.Context, channelID, sessionID string) error
	// StatsReport returns the GetStatsReport counters.
	StatsReport() map[string]any
}

// Recorder is what the recording methods need; nil disables them (they
// answer 400 "recording is not available").
type Recorder interface {
	StartRecording(ctx context.Context, req StartRecordingRequest) (Recording, error)
	StopRecording(ctx context.Context, channelID string) (Recording, error)
}
