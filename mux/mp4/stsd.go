package mp4

import (
	"fmt"

	"github.com/kiroku-sfu/kiroku/mux"
	"github.com/kiroku-sfu/kiroku/mux/codec/opus"
)

// The sample description boxes are encoded by hand, like every box of this
// package (see boxType); TestStsdMatchesGoMP4 compares them with go-mp4's
// encoding of the same values.

// buildStsd returns the complete stsd box for a track: one Opus entry for
// audio, one visual entry per distinct video configuration for video (none
// before the first keyframe).
func buildStsd(info mux.TrackInfo, configs []*mux.VideoConfig) ([]byte, error) {
	b := newBoxBuf()
	if info.Kind() == mux.Audio {
		b.fullBox(typeStsd, 0, 0)
		b.u32(1)
		opusEntry(b, info)
	} else {
		b.fullBox(typeStsd, 0, 0)
		b.u32(uint32(len(configs)))
		for _, c := range configs {
			if err := videoEntry(b, info.Codec, c); err != nil {
				return nil, err
			}
		}
	}
	b.end()
	out, err := b.bytes()
	if err != nil {
		return nil, fmt.Errorf("build stsd: %w", err)
	}
	return out, nil
}

// startSampleEntry opens a sample entry (ISO/IEC 14496-12 §8.5.2): six
// reserved bytes and data reference index 1.
func startSampleEntry(b *boxBuf, typ boxType) {
	b.start(typ)
	b.append([]byte{0, 0, 0, 0, 0, 0, 0, 1})
}

func opusEntry(b *boxBuf, info mux.TrackInfo) {
	channels := info.Channels
	if channels < 1 {
		channels = 2
	}
	// AudioSampleEntry: version 0 and reserved (8 bytes), channel count,
	// sample size 16, pre-defined and reserved, sample rate 16.16.
	startSampleEntry(b, typeOpus)
	b.u64(0)
	b.u32(uint32(channels)<<16 | 16)
	b.u32(0)
	b.u32(opusSampleRate << 16)
	// dOps (Opus in ISOBMFF §4.3.2): version 0, output channels, pre-skip
	// (see opus.DefaultPreSkip: nothing to trim from RTP), input sample
	// rate, output gain 0, channel mapping family 0.
	b.start(typeDOps)
	b.append([]byte{0, byte(channels), byte(opus.DefaultPreSkip >> 8), byte(opus.DefaultPreSkip & 0xff)})
	b.u32(opusSampleRate)
	b.append([]byte{0, 0, 0})
	b.end()
	b.end()
}

// sampleEntryType maps a video codec to its sample entry box type. H.264 and
// H.265 use avc1/hvc1: parameter sets live only in the configuration record.
func sampleEntryType(c mux.Codec) (boxType, error) {
	switch c {
	case mux.H264:
		return typeAvc1, nil
	case mux.H265:
		return typeHvc1, nil
	case mux.VP8:
		return typeVp08, nil
	case mux.VP9:
		return typeVp09, nil
	case mux.AV1:
		return typeAv01, nil
	}
	return 0, fmt.Errorf("sample entry for %s: %w", c, mux.ErrUnsupported)
}

func videoEntry(b *boxBuf, codec mux.Codec, c *mux.VideoConfig) error {
	typ, err := sampleEntryType(codec)
	if err != nil {
		return err
	}
	if err := checkConfig(codec, c); err != nil {
		return err
	}
	// VisualSampleEntry (§12.1.3): pre-defined and reserved (16 bytes),
	// width, height, 72 dpi both ways, reserved, frame count 1, an empty
	// compressor name (32 bytes), depth 0x18, pre-defined -1.
	startSampleEntry(b, typ)
	b.append(make([]byte, 16))
	b.u32(uint32(c.Width)<<16 | uint32(c.Height))
	b.u32(72 << 16)
	b.u32(72 << 16)
	b.u32(0)
	b.append([]byte{0, 1})
	b.append(make([]byte, 32))
	b.append([]byte{0, 0x18, 0xff, 0xff})
	switch codec {
	case mux.H264:
		b.raw(typeAvcC, c.Record)
	case mux.H265:
		b.raw(typeHvcC, c.Record)
	case mux.AV1:
		b.raw(typeAv1C, c.Record)
	default:
		writeVpcC(b, c)
	}
	b.end()
	return nil
}

// checkConfig rejects configurations a sample entry cannot be built from.
func checkConfig(codec mux.Codec, c *mux.VideoConfig) error {
	if c == nil {
		return fmt.Errorf("%s keyframe without a configuration", codec)
	}
	if c.Width <= 0 || c.Height <= 0 || c.Width > 0xffff || c.Height > 0xffff {
		return fmt.Errorf("%s configuration: bad size %dx%d", codec, c.Width, c.Height)
	}
	needsRecord := codec == mux.H264 || codec == mux.H265 || codec == mux.AV1
	if needsRecord && len(c.Record) == 0 {
		return fmt.Errorf("%s configuration without a configuration record", codec)
	}
	return nil
}

// writeVpcC describes a VP8 or VP9 stream (VP Codec ISO Media File Format
// Binding §2.2, version 1); colour fields are "unspecified" because RTP
// does not carry them, and there is no codec initialization data.
func writeVpcC(b *boxBuf, c *mux.VideoConfig) {
	const unspecified = 2
	depth := c.BitDepth
	if depth == 0 {
		depth = 8
	}
	full := uint8(0)
	if c.FullRange {
		full = 1
	}
	b.fullBox(typeVpcC, 1, 0)
	b.append([]byte{c.Profile, c.Level, depth<<4 | (c.ChromaSubsampling&7)<<1 | full,
		unspecified, unspecified, unspecified, 0, 0})
	b.end()
}
