package signaling

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/kiroku-sfu/kiroku/sfu"
)

// MediaSettings are a connection's media settings beyond on/off and the
// video codec: what its connect asked for, overridden by the
// authenticator. kiroku reports them (offer, HTTP API, webhooks, archive
// JSON) as Sora does; it does not enforce the bit rates on the sender.
type MediaSettings struct {
	AudioBitRate    int             // kbit/s; 0 when not given
	AudioOpusParams json.RawMessage // audio.opus_params, a JSON object
	VideoBitRate    int             // kbit/s; 0 when not given
	VideoVP9Params  json.RawMessage // video.vp9_params
	VideoAV1Params  json.RawMessage // video.av1_params
	VideoH264Params json.RawMessage // video.h264_params
}

// override returns m with every setting o gives replaced.
func (m MediaSettings) override(o MediaSettings) MediaSettings {
	if o.AudioBitRate > 0 {
		m.AudioBitRate = o.AudioBitRate
	}
	if o.VideoBitRate > 0 {
		m.VideoBitRate = o.VideoBitRate
	}
	m.AudioOpusParams = orRaw(o.AudioOpusParams, m.AudioOpusParams)
	m.VideoVP9Params = orRaw(o.VideoVP9Params, m.VideoVP9Params)
	m.VideoAV1Params = orRaw(o.VideoAV1Params, m.VideoAV1Params)
	m.VideoH264Params = orRaw(o.VideoH264Params, m.VideoH264Params)
	return m
}

// Bit rate ranges Sora accepts, in kbit/s.
const (
	minAudioBitRate, maxAudioBitRate = 6, 510
	minVideoBitRate, maxVideoBitRate = 1, 50000
)

// mediaOption is the object form of "audio" / "video".
type mediaOption struct {
	CodecType  string          `json:"codec_type"`
	BitRate    *int            `json:"bit_rate"`
	OpusParams json.RawMessage `json:"opus_params"`
	VP9Params  json.RawMessage `json:"vp9_params"`
	AV1Params  json.RawMessage `json:"av1_params"`
	H264Params json.RawMessage `json:"h264_params"`
}

// parseMedia reads "audio"/"video": absent or true means on, false off,
// an object means on with options. Parameter objects must be objects.
func parseMedia(raw json.RawMessage) (on bool, opt mediaOption, ok bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return true, opt, true
	}
	var b bool
	if err := json.Unmarshal(raw, &b); err == nil {
		return b, opt, true
	}
	if err := json.Unmarshal(raw, &opt); err != nil {
		return false, opt, false
	}
	for _, p := range []*json.RawMessage{&opt.OpusParams, &opt.VP9Params, &opt.AV1Params, &opt.H264Params} {
		if string(*p) == "null" {
			*p = nil
		}
		if len(*p) > 0 && !bytes.HasPrefix(bytes.TrimSpace(*p), []byte("{")) {
			return false, opt, false
		}
	}
	return true, opt, true
}

// audioSettings checks the audio options and returns what they set.
func audioSettings(opt mediaOption) (MediaSettings, bool) {
	var m MediaSettings
	if opt.CodecType != "" && !strings.EqualFold(opt.CodecType, "OPUS") {
		return m, false
	}
	if opt.BitRate != nil {
		if *opt.BitRate < minAudioBitRate || *opt.BitRate > maxAudioBitRate {
			return m, false
		}
		m.AudioBitRate = *opt.BitRate
	}
	m.AudioOpusParams = opt.OpusParams
	return m, true
}

// videoSettings checks the video options and returns what they set and
// the codec asked for ("" when none).
func videoSettings(opt mediaOption) (MediaSettings, sfu.Codec, *rejection) {
	var m MediaSettings
	var codec sfu.Codec
	if opt.CodecType != "" {
		c, err := sfu.ParseCodec(opt.CodecType)
		if err != nil {
			return m, "", reject(codeInvalidParam, "INVALID-VIDEO-CODEC-TYPE")
		}
		codec = c
	}
	if opt.BitRate != nil {
		if *opt.BitRate < minVideoBitRate || *opt.BitRate > maxVideoBitRate {
			return m, "", reject(codeInvalidParam, "INVALID-VIDEO-BIT-RATE")
		}
		m.VideoBitRate = *opt.BitRate
	}
	m.VideoVP9Params, m.VideoAV1Params, m.VideoH264Params = opt.VP9Params, opt.AV1Params, opt.H264Params
	return m, codec, nil
}

// parseMediaOptions reads audio, video and data_channels into req.
func parseMediaOptions(req *connectRequest) *rejection {
	m := &req.msg
	audio, aopt, ok := parseMedia(m.Audio)
	as, aok := audioSettings(aopt)
	if !ok || !aok {
		return reject(codeInvalidParam, "INVALID-AUDIO")
	}
	video, vopt, ok := parseMedia(m.Video)
	if !ok {
		return reject(codeInvalidParam, "INVALID-VIDEO")
	}
	vs, codec, rej := videoSettings(vopt)
	if rej != nil {
		return rej
	}
	req.audio, req.video = audio, video
	if codec != "" {
		req.videoCodec = codec
	}
	req.media = as.override(vs)
	req.channels, rej = parseDataChannels(m.DataChannels)
	return rej
}
