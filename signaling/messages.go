package signaling

import (
	"encoding/json"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/kiroku-sfu/kiroku/sfu"
)

// maxIDBytes bounds channel_id, client_id and bundle_id (Sora's limit).
const maxIDBytes = 255

// envelope is the part every message shares.
type envelope struct {
	Type string `json:"type"`
}

// connectMessage is the fields of "connect" kiroku acts on.
type connectMessage struct {
	Role                    string              `json:"role"`
	ChannelID               string              `json:"channel_id"`
	ClientID                string              `json:"client_id"`
	BundleID                string              `json:"bundle_id"`
	Metadata                json.RawMessage     `json:"metadata"`
	SignalingNotifyMetadata json.RawMessage     `json:"signaling_notify_metadata"`
	Audio                   json.RawMessage     `json:"audio"`
	Video                   json.RawMessage     `json:"video"`
	Multistream             *bool               `json:"multistream"`
	Simulcast               bool                `json:"simulcast"`
	SimulcastRID            string              `json:"simulcast_rid"`
	SimulcastRequestRID     string              `json:"simulcast_request_rid"`
	Spotlight               bool                `json:"spotlight"`
	SpotlightNumber         int                 `json:"spotlight_number"`
	SpotlightFocusRID       string              `json:"spotlight_focus_rid"`
	SpotlightUnfocusRID     string              `json:"spotlight_unfocus_rid"`
	DataChannels            []dataChannelOption `json:"data_channels"`
	DataChannelSignaling    *bool               `json:"data_channel_signaling"`
	IgnoreDisconnectWS      *bool               `json:"ignore_disconnect_websocket"`
	SoraClient              string              `json:"sora_client"`
	Environment             string              `json:"environment"`
	Libwebrtc               string              `json:"libwebrtc"`
	// SDP is the client's capability offer: what it can decode.
	SDP string `json:"sdp"`
}

// connectRequest is a validated connect.
type connectRequest struct {
	msg        connectMessage
	role       sfu.Role
	audio      bool
	video      bool
	videoCodec sfu.Codec
	channels   []sfu.DataChannel
	dcSignal   bool   // data_channel_signaling
	ignoreWS   bool   // ignore_disconnect_websocket
	rid        string // the simulcast layer to receive; "" for the default
	media      MediaSettings
}

// rejection is a close code and reason for a refused or broken connection.
type rejection struct {
	code   int
	reason string
}

// Error returns the close reason.
func (r *rejection) Error() string { return r.reason }

// Close codes; see the package documentation.
const (
	codeMalformed      = 4001
	codeUnexpected     = 4002
	codeTooLarge       = 4003
	codeConnectTimeout = 4004
	codePongTimeout    = 4005
	codeAnswerTimeout  = 4006
	codeInvalidRole    = 4010
	codeInvalidChannel = 4011
	codeInvalidParam   = 4012
	codeAuthDenied     = 4020
	codeAuthError      = 4021
	codeBlockedConn    = 4030
	codeBlockedSession = 4031
	codeInternal       = 4040
	codeTooSlow        = 4041
)

func reject(code int, reason string) *rejection { return &rejection{code: code, reason: reason} }

// parseConnect validates a connect message.
func parseConnect(raw []byte, defaultCodec sfu.Codec) (*connectRequest, *rejection) {
	var m connectMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, reject(codeMalformed, "MALFORMED-MESSAGE")
	}
	req := &connectRequest{msg: m, role: sfu.Role(m.Role)}
	if !req.role.Valid() {
		return nil, reject(codeInvalidRole, "INVALID-ROLE")
	}
	if !validID(m.ChannelID, false) {
		return nil, reject(codeInvalidChannel, "INVALID-CHANNEL-ID")
	}
	if rej := checkOptions(&m); rej != nil {
		return nil, rej
	}
	req.videoCodec = defaultCodec
	req.rid = receiveRID(&m)
	req.dcSignal = m.DataChannelSignaling != nil && *m.DataChannelSignaling
	req.ignoreWS = req.dcSignal && m.IgnoreDisconnectWS != nil && *m.IgnoreDisconnectWS
	if rej := parseMediaOptions(req); rej != nil {
		return nil, rej
	}
	return req, nil
}

// checkOptions rejects invalid ids and features kiroku does not offer.
func checkOptions(m *connectMessage) *rejection {
	switch {
	case !validID(m.ClientID, true):
		return reject(codeInvalidParam, "INVALID-CLIENT-ID")
	case !validID(m.BundleID, true):
		return reject(codeInvalidParam, "INVALID-BUNDLE-ID")
	case m.Multistream != nil && !*m.Multistream:
		return reject(codeInvalidParam, "LEGACY-STREAM-UNSUPPORTED")
	case !sfu.ValidSpotlightNumber(m.SpotlightNumber):
		return reject(codeInvalidParam, "INVALID-SPOTLIGHT-NUMBER")
	case !validSpotlightRID(m.SpotlightFocusRID) || !validSpotlightRID(m.SpotlightUnfocusRID):
		return reject(codeInvalidParam, "INVALID-SPOTLIGHT-RID")
	case !validRID(m.SimulcastRID) || !(validRID(m.SimulcastRequestRID) || m.SimulcastRequestRID == "none"):
		return reject(codeInvalidParam, "INVALID-SIMULCAST-RID")
	}
	return nil
}

// validRID accepts a simulcast rid, or none given.
func validRID(rid string) bool {
	switch rid {
	case "", "r0", "r1", "r2":
		return true
	}
	return false
}

// receiveRID is the simulcast layer a connection asks to receive:
// simulcast_request_rid (newer) before simulcast_rid; "" for the default.
// "none" (no preference) gives the default too.
func receiveRID(m *connectMessage) string {
	if m.SimulcastRequestRID != "" && m.SimulcastRequestRID != "none" {
		return m.SimulcastRequestRID
	}
	return m.SimulcastRID
}

// validID checks an id's length, encoding and characters.
func validID(s string, emptyOK bool) bool {
	if s == "" {
		return emptyOK
	}
	if len(s) > maxIDBytes || !utf8.ValidString(s) {
		return false
	}
	return strings.IndexFunc(s, unicode.IsControl) < 0
}

// offerMessage is the server's first offer.
type offerMessage struct {
	Type           string             `json:"type"`
	SDP            string             `json:"sdp"`
	Version        string             `json:"version"`
	ChannelID      string             `json:"channel_id"`
	SessionID      string             `json:"session_id"`
	ConnectionID   string             `json:"connection_id"`
	ClientID       string             `json:"client_id"`
	BundleID       string             `json:"bundle_id"`
	Metadata       json.RawMessage    `json:"metadata,omitempty"`
	Config         peerConfig         `json:"config"`
	Mid            map[string]string  `json:"mid"`
	DataChannels   []offerDataChannel `json:"data_channels"`
	RPCMethods     []string           `json:"rpc_methods,omitempty"`
	Multistream    bool               `json:"multistream"`
	DCSignaling    bool               `json:"data_channel_signaling"`
	IgnoreWS       bool               `json:"ignore_disconnect_websocket"`
	Simulcast      bool               `json:"simulcast"`
	Encodings      []encoding         `json:"encodings,omitempty"`
	Spotlight      bool               `json:"spotlight"`
	Audio          bool               `json:"audio"`
	Video          bool               `json:"video"`
	VideoCodecType string             `json:"video_codec_type,omitempty"`
	AudioCodecType string             `json:"audio_codec_type,omitempty"`
	VideoBitRate   int                `json:"video_bit_rate,omitempty"`
	AudioBitRate   int                `json:"audio_bit_rate,omitempty"`
}

// encoding is one simulcast layer the client is asked to send, handed by
// the SDK to RTCRtpSender.setParameters.
type encoding struct {
	RID                   string  `json:"rid"`
	Active                bool    `json:"active"`
	ScaleResolutionDownBy float64 `json:"scaleResolutionDownBy"`
}

// simulcastEncodings are the layers a simulcast publisher sends: rids r0
// to r2 at a quarter, half and full resolution, as Sora's defaults.
func simulcastEncodings() []encoding {
	return []encoding{{RID: "r0", Active: true, ScaleResolutionDownBy: 4},
		{RID: "r1", Active: true, ScaleResolutionDownBy: 2}, {RID: "r2", Active: true, ScaleResolutionDownBy: 1}}
}

type peerConfig struct {
	ICEServers         []ICEServer `json:"iceServers"`
	ICETransportPolicy string      `json:"iceTransportPolicy"`
}

// sdpMessage is "answer", "re-answer" and "re-offer".
type sdpMessage struct {
	Type string `json:"type"`
	SDP  string `json:"sdp"`
}

// candidateMessage accepts both trickle shapes: the browser's
// RTCIceCandidate.toJSON() fields and the native SDKs' bare candidate.
type candidateMessage struct {
	Candidate     string  `json:"candidate"`
	SDPMid        string  `json:"sdpMid"`
	SDPMLineIndex *uint16 `json:"sdpMLineIndex"`
}

type pushMessage struct {
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

// switchedMessage tells the client that signaling moved to DataChannels.
type switchedMessage struct {
	Type     string `json:"type"`
	IgnoreWS bool   `json:"ignore_disconnect_websocket"`
}

// closeMessage ends a DataChannel-signaling connection.
type closeMessage struct {
	Type   string `json:"type"`
	Code   int    `json:"code"`
	Reason string `json:"reason"`
}

type pingMessage struct {
	Type  string `json:"type"`
	Stats bool   `json:"stats"`
}
