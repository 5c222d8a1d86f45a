package loadgen

import (
	"encoding/json"
	"errors"
	"fmt"
)

// maxMessageBytes bounds one signaling message read from the server.
const maxMessageBytes = 1 << 20

// connectMessage is the first message a client sends.
type connectMessage struct {
	Type        string          `json:"type"`
	Role        string          `json:"role"`
	ChannelID   string          `json:"channel_id"`
	Metadata    json.RawMessage `json:"metadata"`
	Audio       bool            `json:"audio"`
	Video       *videoOption    `json:"video"`
	SoraClient  string          `json:"sora_client"`
	Environment string          `json:"environment"`
	// Simulcast and SimulcastRID are left out when unset.
	Simulcast    bool   `json:"simulcast,omitempty"`
	SimulcastRID string `json:"simulcast_rid,omitempty"`
}

// videoOption is the object form of connect's "video".
type videoOption struct {
	CodecType string `json:"codec_type"`
}

// sdpMessage is "answer" and "re-answer".
type sdpMessage struct {
	Type string `json:"type"`
	SDP  string `json:"sdp"`
}

// candidateMessage is a trickled candidate in the browser's shape.
type candidateMessage struct {
	Type             string  `json:"type"`
	Candidate        string  `json:"candidate"`
	SDPMid           *string `json:"sdpMid,omitempty"`
	SDPMLineIndex    *uint16 `json:"sdpMLineIndex,omitempty"`
	UsernameFragment *string `json:"usernameFragment,omitempty"`
}

// typeOnly is "pong" and "disconnect".
type typeOnly struct {
	Type   string `json:"type"`
	Reason string `json:"reason,omitempty"`
}

// serverMessage is the union of the server messages the client acts on.
type serverMessage struct {
	Type         string `json:"type"`
	SDP          string `json:"sdp"`
	ConnectionID string `json:"connection_id"`
	EventType    string `json:"event_type"`
	// Config is an offer's PeerConnection configuration.
	Config *offerConfig `json:"config"`
}

// offerConfig is the "config" of Sora's offer.
type offerConfig struct {
	ICEServers []struct {
		URLs       []string `json:"urls"`
		Username   string   `json:"username"`
		Credential string   `json:"credential"`
	} `json:"iceServers"`
	ICETransportPolicy string `json:"iceTransportPolicy"`
}

// errMalformed marks a server message the client cannot use.
var errMalformed = errors.New("malformed signaling message")

// parseServerMessage decodes one server message and checks the fields its
// type needs.
func parseServerMessage(raw []byte) (serverMessage, error) {
	var m serverMessage
	if len(raw) > maxMessageBytes {
		return m, fmt.Errorf("%w: %d bytes", errMalformed, len(raw))
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return m, fmt.Errorf("%w: %w", errMalformed, err)
	}
	switch {
	case m.Type == "":
		return m, fmt.Errorf("%w: no type", errMalformed)
	case (m.Type == "offer" || m.Type == "re-offer") && m.SDP == "":
		return m, fmt.Errorf("%w: %s without sdp", errMalformed, m.Type)
	case m.Type == "offer" && m.ConnectionID == "":
		return m, fmt.Errorf("%w: offer without connection_id", errMalformed)
	}
	return m, nil
}
