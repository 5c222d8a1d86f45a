package signaling

import (
	"encoding/json"
	"time"

	"github.com/kiroku-sfu/kiroku/sfu"
	"github.com/kiroku-sfu/kiroku/webhooks"
)

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
	// ClientAddress is kiroku's own: the client's IP address (behind a
	// trusted proxy, the one it forwarded).
	ClientAddress string         `json:"client_address,omitempty"`
	Data          map[string]any `json:"data"`
}

// HandleEvent queues an event webhook.
func (w *Webhooks) HandleEvent(e Event) {
	c := e.Connection
	p := eventPayload{Common: w.client.Common(e.Type), Role: c.Role, ChannelID: c.ChannelID, SessionID: c.SessionID,
		ClientID: c.ClientID, BundleID: c.BundleID, ConnectionID: c.ConnectionID, Multistream: true, Simulcast: c.Simulcast, Spotlight: c.Spotlight,
		EventMetadata: ExtrasOf(c).EventMetadata, ClientAddress: ClientAddressOf(c), Data: eventData(e)}
	w.client.Send(webhooks.Event, e.Type, p, webhooks.Headers(webhooks.Event, e.Type, c.SessionID, c.ConnectionID))
}

// eventData is the event's "data" with the fields Sora's event webhook
// carries for its type.
func eventData(e Event) map[string]any {
	data := map[string]any{
		"channel_connections":          e.Channel.All,
		"channel_sendrecv_connections": e.Channel.SendRecv,
		"channel_sendonly_connections": e.Channel.SendOnly,
		"channel_recvonly_connections": e.Channel.RecvOnly,
		"total_received_bytes":         e.Traffic.ReceivedBytes,
		"total_sent_bytes":             e.Traffic.SentBytes,
	}
	if e.Type == "connection.failed" {
		data["message"] = e.Reason
		return data
	}
	c := e.Connection
	for k, v := range mediaFields(c) {
		data[k] = v
	}
	data["minutes"] = int(e.Time.Sub(c.CreatedAt) / time.Minute)
	data["created_time"], data["created_timestamp"] = c.CreatedAt.Unix(), webhooks.Timestamp(c.CreatedAt)
	// kiroku does not measure how long ICE checked or was disconnected.
	data["ice_connection_state"] = map[string]int64{"total_checking_duration_ms": 0, "total_disconnected_duration_ms": 0}
	data["turn_transport_type"] = "udp"
	if e.Type == "connection.destroyed" {
		data["destroyed_time"], data["destroyed_timestamp"] = e.Time.Unix(), webhooks.Timestamp(e.Time)
		data["reason"] = e.Reason
		if e.APIReason != "" {
			data["disconnect_api_reason"] = e.APIReason
		}
	}
	return data
}

// mediaFields are a connection's audio and video settings under Sora's
// names: audio, audio_codec_type, audio_bit_rate, video,
// video_codec_type, video_bit_rate and video_*_params, the optional
// ones only when known.
func mediaFields(c sfu.ConnectionInfo) map[string]any {
	m := ExtrasOf(c).Media
	out := map[string]any{"audio": c.Audio, "video": c.Video}
	if c.Audio {
		out["audio_codec_type"] = "OPUS"
		putNonZero(out, "audio_bit_rate", m.AudioBitRate)
	}
	if !c.Video {
		return out
	}
	out["video_codec_type"] = string(c.VideoCodec)
	putNonZero(out, "video_bit_rate", m.VideoBitRate)
	for k, v := range map[string]json.RawMessage{"video_vp9_params": m.VideoVP9Params,
		"video_av1_params": m.VideoAV1Params, "video_h264_params": m.VideoH264Params} {
		if len(v) > 0 {
			out[k] = v
		}
	}
	return out
}

func putNonZero(m map[string]any, key string, v int) {
	if v != 0 {
		m[key] = v
	}
}
