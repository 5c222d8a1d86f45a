package sfu

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Codec is a video codec_type as Sora spells it.
type Codec string

// The video codecs a connection may choose with video.codec_type.
const (
	VP8  Codec = "VP8"
	VP9  Codec = "VP9"
	AV1  Codec = "AV1"
	H264 Codec = "H264"
	H265 Codec = "H265"
)

// ParseCodec maps a codec_type, in any letter case, to a Codec.
func ParseCodec(name string) (Codec, error) {
	for _, c := range []Codec{VP8, VP9, AV1, H264, H265} {
		if strings.EqualFold(name, string(c)) {
			return c, nil
		}
	}
	return "", fmt.Errorf("unknown video codec_type %q", name)
}

// Role is a connection's direction as Sora names it.
type Role string

// The connection roles.
const (
	SendRecv Role = "sendrecv"
	SendOnly Role = "sendonly"
	RecvOnly Role = "recvonly"
)

// Valid reports whether r is one of the three roles.
func (r Role) Valid() bool { return r == SendRecv || r == SendOnly || r == RecvOnly }

// Sends reports whether connections with this role publish media.
func (r Role) Sends() bool { return r == SendRecv || r == SendOnly }

// Receives reports whether connections with this role get others' media.
func (r Role) Receives() bool { return r == SendRecv || r == RecvOnly }

// Mode is the server-wide admission mode (Sora's ChangeMode API).
type Mode string

// The admission modes.
const (
	ModeNormal             Mode = "normal"
	ModeBlockNewSession    Mode = "block_new_session"
	ModeBlockNewConnection Mode = "block_new_connection"
)

// Valid reports whether m is one of the three modes.
func (m Mode) Valid() bool {
	return m == ModeNormal || m == ModeBlockNewSession || m == ModeBlockNewConnection
}

// Errors returned by Join and the lookup methods; test with errors.Is.
var (
	ErrBlockedConnection = errors.New("sfu: new connections are blocked")
	ErrBlockedSession    = errors.New("sfu: new sessions are blocked")
	ErrDuplicate         = errors.New("sfu: connection id already in use")
	ErrNotFound          = errors.New("sfu: not found")
	ErrClosed            = errors.New("sfu: closed")
	ErrInvalid           = errors.New("sfu: invalid argument")
)

// Peer is the signaling side of one connection: how the SFU speaks to the
// client. Implementations must not block; they queue and return.
type Peer interface {
	// ReOffer delivers a renegotiation offer; the answer comes back
	// through Connection.SetAnswer.
	ReOffer(sdp string)
	// Push delivers a push message's data (Sora's PushChannel and
	// PushConnection APIs).
	Push(data json.RawMessage)
	// Disconnect ends the connection from the server side with Sora's
	// reason (e.g. "DISCONNECTED-API"); the signaling layer closes its
	// transport and then calls Connection.Close.
	Disconnect(reason string)
}

// SimulcastPeer is implemented by a Peer that tells its client when the
// simulcast layer it receives of a publisher changes (Sora's
// simulcast.switched notify). Called outside the SFU's locks; must not
// block.
type SimulcastPeer interface {
	Peer
	SimulcastSwitched(s SimulcastSwitch)
}

// SimulcastSwitch is one change of the layer a viewer receives.
type SimulcastSwitch struct {
	SenderConnectionID string
	RequestRID         string // the layer asked for
	CurrentRID         string // the layer received from now on
	PreviousRID        string
	// ByReceiver is true when the move follows the receiver's request
	// (connect or RequestSimulcastRid), false when the publisher stopped
	// sending the layer it had.
	ByReceiver bool
}

// Observer learns about session lifecycle, e.g. to send session webhooks.
// Methods are called outside the SFU's locks and must not block.
type Observer interface {
	// SessionCreated is called when a channel gets its first connection.
	SessionCreated(s SessionInfo)
	// SessionDestroyed is called after a channel's last connection left.
	SessionDestroyed(s SessionInfo)
	// SessionsVanished is called when the last session is destroyed while
	// the mode blocks new connections or sessions.
	SessionsVanished(mode Mode)
}

// SessionInfo describes a session (one channel's lifetime with members).
type SessionInfo struct {
	ChannelID   string
	SessionID   string
	CreatedAt   time.Time
	DestroyedAt time.Time // zero while the session lives
	// TotalConnections counts every connection that ever joined.
	TotalConnections int
	// MaxConnections is the most connections present at once.
	MaxConnections int
	// Spotlight is true for a spotlight channel, whose SpotlightNumber
	// publishers are focused at a time.
	Spotlight       bool
	SpotlightNumber int
	// Metadata is opaque to the SFU: the session_metadata of Sora's
	// session webhook, set with SetSessionMetadata.
	Metadata json.RawMessage
}

// ConnectionInfo describes a connection for APIs and notifications.
type ConnectionInfo struct {
	ChannelID    string
	SessionID    string
	ConnectionID string
	ClientID     string
	BundleID     string
	Role         Role
	Audio        bool
	Video        bool
	VideoCodec   Codec
	// Simulcast is the connection's connect "simulcast": with video to
	// publish it sends layers (PublishesLayers); every connection gets
	// one layer of each simulcast publisher.
	Simulcast bool
	// Spotlight is true in a spotlight channel (spotlight.go).
	Spotlight bool
	CreatedAt time.Time
	// Metadata is opaque to the SFU: the signaling layer stores what it
	// needs to notify others (e.g. authn/authz metadata).
	Metadata any
}

type nopObserver struct{}

// SessionCreated ignores the event.
func (nopObserver) SessionCreated(SessionInfo) {}

// SessionDestroyed ignores the event.
func (nopObserver) SessionDestroyed(SessionInfo) {}

// SessionsVanished ignores the event.
func (nopObserver) SessionsVanished(Mode) {}

// PublishesLayers reports whether the connection sends its video in
// simulcast layers (rids r0, r1, r2).
func (c ConnectionInfo) PublishesLayers() bool { return c.Simulcast && c.Video && c.Role.Sends() }
