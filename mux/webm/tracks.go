package webm

import (
	"fmt"
	"time"

	"github.com/at-wat/ebml-go/webm"

	"github.com/kiroku-sfu/kiroku/mux"
	"github.com/kiroku-sfu/kiroku/mux/codec/opus"
)

// Track numbers are fixed: video first, audio second.
const (
	videoTrack = 1
	audioTrack = 2
)

// Matroska track types.
const (
	trackTypeVideo = 1
	trackTypeAudio = 2
)

// opusSeekPreRoll is the 80 ms Matroska asks Opus decoders to pre-roll
// after a seek.
const opusSeekPreRoll = 80 * time.Millisecond

// codecID returns the Matroska CodecID for t, or an error wrapping
// mux.ErrUnsupported when t's codec cannot go into WebM or has the wrong
// kind. H.264 is outside the WebM profile, but Chrome, Firefox and ffmpeg
// play it and Sora writes it there too; H.265 is refused.
func codecID(t *mux.TrackInfo, want mux.Kind) (string, error) {
	var id string
	switch t.Codec {
	case mux.VP8:
		id = "V_VP8"
	case mux.VP9:
		id = "V_VP9"
	case mux.AV1:
		id = "V_AV1"
	case mux.H264:
		id = "V_MPEG4/ISO/AVC"
	case mux.Opus:
		id = "A_OPUS"
	default:
		return "", fmt.Errorf("webm: codec %q: %w in WebM", t.Codec, mux.ErrUnsupported)
	}
	if t.Kind() != want {
		return "", fmt.Errorf("webm: codec %q is not %s: %w", t.Codec, want, mux.ErrUnsupported)
	}
	return id, nil
}

// videoEntry builds the video TrackEntry. cfg is the first keyframe's
// configuration, or nil before it arrives (the entry is then rewritten
// once it does). PixelWidth/PixelHeight are the first keyframe's size: it
// is the size known when the header is written, so a recovered file and a
// closed one say the same; VP8, VP9, AV1 and H.264 carry later sizes in-band.
func videoEntry(t *mux.TrackInfo, cfg *mux.VideoConfig) (webm.TrackEntry, error) {
	id, err := codecID(t, mux.Video)
	if err != nil {
		return webm.TrackEntry{}, err
	}
	e := webm.TrackEntry{
		TrackNumber: videoTrack,
		TrackUID:    videoTrack,
		CodecID:     id,
		TrackType:   trackTypeVideo,
		Video:       &webm.Video{},
	}
	if cfg != nil {
		e.Video.PixelWidth = uint64(max(cfg.Width, 0))
		e.Video.PixelHeight = uint64(max(cfg.Height, 0))
		switch t.Codec {
		case mux.H264, mux.AV1:
			e.CodecPrivate = cfg.Record
		case mux.VP9:
			e.CodecPrivate = vp9Features(cfg)
		}
	}
	return e, nil
}

// vp9Features encodes the optional VP9 CodecPrivate of the Matroska codec
// mapping: feature (ID, length 1, value) triplets for profile (1), level
// (2), bit depth (3) and chroma subsampling (4), whose values are those of
// vpcC. Level and bit depth are left out when unknown (0).
func vp9Features(c *mux.VideoConfig) []byte {
	b := []byte{1, 1, c.Profile}
	if c.Level != 0 {
		b = append(b, 2, 1, c.Level)
	}
	if c.BitDepth != 0 {
		b = append(b, 3, 1, c.BitDepth)
	}
	return append(b, 4, 1, c.ChromaSubsampling)
}

// audioEntry builds the Opus TrackEntry with an OpusHead CodecPrivate.
func audioEntry(t *mux.TrackInfo, preSkip uint16) (webm.TrackEntry, error) {
	id, err := codecID(t, mux.Audio)
	if err != nil {
		return webm.TrackEntry{}, err
	}
	channels := t.Channels
	if channels < 1 || channels > 2 {
		return webm.TrackEntry{}, fmt.Errorf("webm: opus with %d channels: %w", channels, mux.ErrUnsupported)
	}
	return webm.TrackEntry{
		TrackNumber:  audioTrack,
		TrackUID:     audioTrack,
		CodecID:      id,
		CodecPrivate: opus.Head(channels, preSkip, 48000),
		CodecDelay:   uint64(time.Duration(preSkip) * time.Second / 48000),
		SeekPreRoll:  uint64(opusSeekPreRoll),
		TrackType:    trackTypeAudio,
		Audio:        &webm.Audio{SamplingFrequency: 48000, Channels: uint64(channels)},
	}, nil
}
