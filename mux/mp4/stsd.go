package mp4

import (
	"fmt"

	gomp4 "github.com/abema/go-mp4"

	"github.com/kiroku-sfu/kiroku/mux"
	"github.com/kiroku-sfu/kiroku/mux/codec/opus"
)

// buildStsd returns the complete stsd box for a track: one Opus entry for
// audio, one visual entry per distinct video configuration for video (none
// before the first keyframe).
func buildStsd(info mux.TrackInfo, configs []*mux.VideoConfig) ([]byte, error) {
	b := newBoxBuf()
	if info.Kind() == mux.Audio {
		b.box(&gomp4.Stsd{EntryCount: 1}, true)
		opusEntry(b, info)
	} else {
		b.box(&gomp4.Stsd{EntryCount: uint32(len(configs))}, true)
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

func opusEntry(b *boxBuf, info mux.TrackInfo) {
	channels := info.Channels
	if channels < 1 {
		channels = 2
	}
	entry := &gomp4.AudioSampleEntry{
		SampleEntry:  gomp4.SampleEntry{AnyTypeBox: gomp4.AnyTypeBox{Type: gomp4.BoxTypeOpus()}, DataReferenceIndex: 1},
		ChannelCount: uint16(channels),
		SampleSize:   16,
		SampleRate:   opusSampleRate << 16,
	}
	b.box(entry, true)
	b.leaf(&gomp4.DOps{
		OutputChannelCount: uint8(channels),
		PreSkip:            opus.DefaultPreSkip, // see there: nothing to trim from RTP
		InputSampleRate:    opusSampleRate,
	})
	b.end()
}

// sampleEntryType maps a video codec to its sample entry box type. H.264 and
// H.265 use avc1/hvc1: parameter sets live only in the configuration record.
func sampleEntryType(c mux.Codec) (gomp4.BoxType, error) {
	switch c {
	case mux.H264:
		return gomp4.StrToBoxType("avc1"), nil
	case mux.H265:
		return gomp4.StrToBoxType("hvc1"), nil
	case mux.VP8:
		return gomp4.BoxTypeVp08(), nil
	case mux.VP9:
		return gomp4.BoxTypeVp09(), nil
	case mux.AV1:
		return gomp4.BoxTypeAv01(), nil
	}
	return gomp4.BoxType{}, fmt.Errorf("sample entry for %s: %w", c, mux.ErrUnsupported)
}

func videoEntry(b *boxBuf, codec mux.Codec, c *mux.VideoConfig) error {
	typ, err := sampleEntryType(codec)
	if err != nil {
		return err
	}
	if err := checkConfig(codec, c); err != nil {
		return err
	}
	entry := &gomp4.VisualSampleEntry{
		SampleEntry:     gomp4.SampleEntry{AnyTypeBox: gomp4.AnyTypeBox{Type: typ}, DataReferenceIndex: 1},
		Width:           uint16(c.Width),
		Height:          uint16(c.Height),
		Horizresolution: 72 << 16,
		Vertresolution:  72 << 16,
		FrameCount:      1,
		Depth:           0x0018,
		PreDefined3:     -1,
	}
	b.box(entry, true)
	switch codec {
	case mux.H264:
		b.raw(gomp4.StrToBoxType("avcC"), c.Record)
	case mux.H265:
		b.raw(gomp4.StrToBoxType("hvcC"), c.Record)
	case mux.AV1:
		b.raw(gomp4.BoxTypeAv1C(), c.Record)
	default:
		b.leaf(vpcC(c))
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

// vpcC describes a VP8 or VP9 stream (VP Codec ISO Media File Format
// Binding §2.2); colour fields are "unspecified" because RTP does not carry
// them.
func vpcC(c *mux.VideoConfig) *gomp4.VpcC {
	const unspecified = 2
	depth := c.BitDepth
	if depth == 0 {
		depth = 8
	}
	full := uint8(0)
	if c.FullRange {
		full = 1
	}
	v := &gomp4.VpcC{
		Profile:                 c.Profile,
		Level:                   c.Level,
		BitDepth:                depth,
		ChromaSubsampling:       c.ChromaSubsampling,
		VideoFullRangeFlag:      full,
		ColourPrimaries:         unspecified,
		TransferCharacteristics: unspecified,
		MatrixCoefficients:      unspecified,
	}
	v.SetVersion(1)
	return v
}
