package signaling

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/kiroku-sfu/kiroku/sfu"
	"github.com/kiroku-sfu/kiroku/webhooks"
)

// authPayload is the auth webhook request, with Sora's fields.
type authPayload struct {
	webhooks.Common
	Role                       sfu.Role        `json:"role"`
	ChannelID                  string          `json:"channel_id"`
	ClientID                   string          `json:"client_id,omitempty"`
	BundleID                   string          `json:"bundle_id,omitempty"`
	ConnectionID               string          `json:"connection_id"`
	Multistream                bool            `json:"multistream"`
	Simulcast                  bool            `json:"simulcast"`
	SimulcastRID               string          `json:"simulcast_rid,omitempty"`
	Spotlight                  bool            `json:"spotlight"`
	SpotlightNumber            int             `json:"spotlight_number,omitempty"`
	SpotlightFocusRID          string          `json:"spotlight_focus_rid,omitempty"`
	SpotlightUnfocusRID        string          `json:"spotlight_unfocus_rid,omitempty"`
	Audio                      bool            `json:"audio"`
	AudioCodecType             string          `json:"audio_codec_type,omitempty"`
	AudioBitRate               int             `json:"audio_bit_rate,omitempty"`
	AudioOpusParams            json.RawMessage `json:"audio_opus_params,omitempty"`
	Video                      bool            `json:"video"`
	VideoCodecType             sfu.Codec       `json:"video_codec_type,omitempty"`
	VideoBitRate               int             `json:"video_bit_rate,omitempty"`
	VideoVP9Params             json.RawMessage `json:"video_vp9_params,omitempty"`
	VideoAV1Params             json.RawMessage `json:"video_av1_params,omitempty"`
	VideoH264Params            json.RawMessage `json:"video_h264_params,omitempty"`
	DataChannelSignaling       bool            `json:"data_channel_signaling"`
	IgnoreDisconnectWebSocket  bool            `json:"ignore_disconnect_websocket"`
	DataChannels               json.RawMessage `json:"data_channels,omitempty"`
	Metadata                   json.RawMessage `json:"metadata,omitempty"`
	WHIP                       bool            `json:"whip,omitempty"`
	WHEP                       bool            `json:"whep,omitempty"`
	ClientAddress              string          `json:"client_address,omitempty"`
	E2EE                       bool            `json:"e2ee"`
	SoraClient                 soraClient      `json:"sora_client"`
	ChannelConnections         int             `json:"channel_connections"`
	ChannelSendrecvConnections int             `json:"channel_sendrecv_connections"`
	ChannelSendonlyConnections int             `json:"channel_sendonly_connections"`
	ChannelRecvonlyConnections int             `json:"channel_recvonly_connections"`
}

// soraClient is the auth webhook's sora_client: the connect's
// sora_client string ("Sora JavaScript SDK 2026.1.0") taken apart, with
// its environment and libwebrtc. Unknown parts are null.
type soraClient struct {
	Type        *string `json:"type"`
	Raw         *string `json:"raw"`
	Version     *string `json:"version"`
	CommitShort *string `json:"commit_short"`
	Environment *string `json:"environment"`
	Libwebrtc   *string `json:"libwebrtc"`
}

// parseSoraClient splits "<type> <version> (<commit>)"; the version is
// the last word starting with a digit, the commit an optional last word
// in parentheses.
func parseSoraClient(raw, environment, libwebrtc string) soraClient {
	str := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	c := soraClient{Raw: str(raw), Environment: str(environment), Libwebrtc: str(libwebrtc)}
	words := strings.Fields(raw)
	if n := len(words); n > 1 && strings.HasPrefix(words[n-1], "(") && strings.HasSuffix(words[n-1], ")") {
		c.CommitShort = str(strings.Trim(words[n-1], "()"))
		words = words[:n-1]
	}
	if n := len(words); n > 1 && words[n-1][0] >= '0' && words[n-1][0] <= '9' {
		c.Version = str(words[n-1])
		words = words[:n-1]
	}
	c.Type = str(strings.Join(words, " "))
	return c
}

func newAuthPayload(common webhooks.Common, r AuthRequest) authPayload {
	p := authPayload{Common: common, Role: r.Role, ChannelID: r.ChannelID, ClientID: r.ClientID,
		BundleID: r.BundleID, ConnectionID: r.ConnectionID, Multistream: true, Simulcast: r.Simulcast,
		SimulcastRID: r.SimulcastRID, Audio: r.Audio, Video: r.Video,
		Spotlight: r.Spotlight.On, SpotlightNumber: r.Spotlight.Number,
		SpotlightFocusRID: r.Spotlight.FocusRID, SpotlightUnfocusRID: r.Spotlight.UnfocusRID,
		DataChannelSignaling: r.DataChannelSignaling, IgnoreDisconnectWebSocket: r.IgnoreDisconnectWebSocket,
		DataChannels: r.DataChannels, Metadata: r.Metadata, WHIP: r.WHIP, WHEP: r.WHEP, ClientAddress: r.ClientAddress,
		SoraClient:         parseSoraClient(r.SoraClient, r.Environment, r.Libwebrtc),
		ChannelConnections: r.Channel.All, ChannelSendrecvConnections: r.Channel.SendRecv,
		ChannelSendonlyConnections: r.Channel.SendOnly, ChannelRecvonlyConnections: r.Channel.RecvOnly}
	if r.Audio {
		p.AudioCodecType, p.AudioBitRate, p.AudioOpusParams = "OPUS", r.Media.AudioBitRate, r.Media.AudioOpusParams
	}
	if r.Video {
		p.VideoCodecType, p.VideoBitRate = r.VideoCodec, r.Media.VideoBitRate
		p.VideoVP9Params, p.VideoAV1Params, p.VideoH264Params = r.Media.VideoVP9Params, r.Media.VideoAV1Params, r.Media.VideoH264Params
	}
	return p
}

// Authenticate calls the auth webhook; any failure denies, and so does
// a reply whose overrides are invalid.
func (w *Webhooks) Authenticate(ctx context.Context, r AuthRequest) (AuthResult, error) {
	if !w.client.Configured(webhooks.Auth) {
		return AuthResult{Allowed: true}, nil
	}
	var reply webhooks.AuthReply
	err := w.client.Call(ctx, webhooks.Auth, "auth", newAuthPayload(w.client.Common(""), r),
		webhooks.Headers(webhooks.Auth, "", "", r.ConnectionID), &reply)
	if err != nil {
		return AuthResult{}, fmt.Errorf("auth webhook: %w", err)
	}
	res, err := authResult(reply)
	if err != nil {
		return AuthResult{}, fmt.Errorf("auth webhook reply: %w", err)
	}
	return res, nil
}

// authResult maps the reply to the overrides kiroku honours
// (docs/signaling.md lists them).
func authResult(reply webhooks.AuthReply) (AuthResult, error) {
	res := AuthResult{Allowed: reply.Allowed, Reason: reply.Reason, Metadata: reply.Metadata,
		SignalingNotifyMetadata: reply.SignalingNotifyMetadata, EventMetadata: reply.EventMetadata,
		RecordingBlock: reply.RecordingBlock != nil && *reply.RecordingBlock,
		Simulcast:      reply.Simulcast, DataChannelSignaling: reply.DataChannelSignaling,
		IgnoreDisconnectWebSocket: reply.IgnoreDisconnectWS}
	if !reply.Allowed {
		return res, nil
	}
	res.ClientID, res.BundleID = deref(reply.ClientID), deref(reply.BundleID)
	res.SimulcastRID = deref(reply.SimulcastRID)
	if reply.ConnectionLifetime != nil && *reply.ConnectionLifetime > 0 {
		res.Lifetime = time.Duration(*reply.ConnectionLifetime) * time.Second
	}
	spot, err := spotlightOverride(reply)
	if err != nil {
		return AuthResult{}, err
	}
	res.Spotlight = spot
	if err := replyAudio(reply, &res); err != nil {
		return AuthResult{}, err
	}
	if err := replyVideo(reply, &res); err != nil {
		return AuthResult{}, err
	}
	return res, nil
}

// replyAudio applies audio, audio_codec_type, audio_bit_rate and
// audio_opus_params.
func replyAudio(reply webhooks.AuthReply, res *AuthResult) error {
	opt := mediaOption{OpusParams: reply.AudioOpusParams, BitRate: reply.AudioBitRate, CodecType: deref(reply.AudioCodecType)}
	if len(reply.Audio) > 0 {
		on, o, ok := parseMedia(reply.Audio)
		if !ok {
			return fmt.Errorf("audio: not a boolean or an object")
		}
		res.Audio = &on
		opt = mergeOption(o, opt)
	}
	m, ok := audioSettings(opt)
	if !ok {
		return fmt.Errorf("audio: codec_type must be OPUS and bit_rate %d to %d", minAudioBitRate, maxAudioBitRate)
	}
	res.Media = res.Media.override(m)
	return nil
}

// replyVideo applies video, video_codec_type, video_bit_rate and
// video_*_params.
func replyVideo(reply webhooks.AuthReply, res *AuthResult) error {
	opt := mediaOption{BitRate: reply.VideoBitRate, CodecType: deref(reply.VideoCodecType),
		VP9Params: reply.VideoVP9Params, AV1Params: reply.VideoAV1Params, H264Params: reply.VideoH264Params}
	if len(reply.Video) > 0 {
		on, o, ok := parseMedia(reply.Video)
		if !ok {
			return fmt.Errorf("video: not a boolean or an object")
		}
		res.Video = &on
		opt = mergeOption(o, opt)
	}
	m, codec, rej := videoSettings(opt)
	if rej != nil {
		return fmt.Errorf("video: %s", rej.reason)
	}
	res.Media, res.VideoCodec = res.Media.override(m), codec
	return nil
}

// mergeOption is the object form of audio/video with the flat keys
// (audio_bit_rate, …) taking precedence.
func mergeOption(obj, flat mediaOption) mediaOption {
	if flat.CodecType != "" {
		obj.CodecType = flat.CodecType
	}
	if flat.BitRate != nil {
		obj.BitRate = flat.BitRate
	}
	obj.OpusParams = orRaw(flat.OpusParams, obj.OpusParams)
	obj.VP9Params = orRaw(flat.VP9Params, obj.VP9Params)
	obj.AV1Params = orRaw(flat.AV1Params, obj.AV1Params)
	obj.H264Params = orRaw(flat.H264Params, obj.H264Params)
	return obj
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
