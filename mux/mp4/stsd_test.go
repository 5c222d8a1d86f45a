package mp4

import (
	"bytes"
	"encoding/binary"
	"testing"

	gomp4 "github.com/abema/go-mp4"

	"github.com/kiroku-sfu/kiroku/mux"
	"github.com/kiroku-sfu/kiroku/mux/codec/opus"
)

// TestStsdMatchesGoMP4 compares the hand-encoded sample descriptions with
// go-mp4's encoding of the same values.
func TestStsdMatchesGoMP4(t *testing.T) {
	vp9 := &mux.VideoConfig{Width: 640, Height: 480, Profile: 2, Level: 31, BitDepth: 10, ChromaSubsampling: 1, FullRange: true}
	vp8 := &mux.VideoConfig{Width: 320, Height: 240}
	rec := &mux.VideoConfig{Width: 1280, Height: 720, Record: []byte{1, 0x42, 0xc0, 0x1e, 0xff}}
	tests := []struct {
		name    string
		info    mux.TrackInfo
		configs []*mux.VideoConfig
		typ     gomp4.BoxType
		child   func(b *boxBuf, c *mux.VideoConfig)
	}{
		{"opus mono", mux.TrackInfo{Codec: mux.Opus, ClockRate: 48000, Channels: 1}, nil, gomp4.BoxTypeOpus(), nil},
		{"opus stereo", mux.TrackInfo{Codec: mux.Opus, ClockRate: 48000, Channels: 2}, nil, gomp4.BoxTypeOpus(), nil},
		{"vp9 two entries", mux.TrackInfo{Codec: mux.VP9}, []*mux.VideoConfig{vp9, vp8}, gomp4.BoxTypeVp09(), goMP4VpcC},
		{"vp8", mux.TrackInfo{Codec: mux.VP8}, []*mux.VideoConfig{vp8}, gomp4.BoxTypeVp08(), goMP4VpcC},
		{"h264", mux.TrackInfo{Codec: mux.H264}, []*mux.VideoConfig{rec}, gomp4.StrToBoxType("avc1"), raw("avcC")},
		{"h265", mux.TrackInfo{Codec: mux.H265}, []*mux.VideoConfig{rec}, gomp4.StrToBoxType("hvc1"), raw("hvcC")},
		{"av1", mux.TrackInfo{Codec: mux.AV1}, []*mux.VideoConfig{rec}, gomp4.BoxTypeAv01(), raw("av1C")},
		{"video before its first keyframe", mux.TrackInfo{Codec: mux.AV1}, nil, gomp4.BoxTypeAv01(), raw("av1C")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := buildStsd(tt.info, tt.configs)
			if err != nil {
				t.Fatal(err)
			}
			want := goMP4Stsd(tt.info, tt.configs, tt.typ, tt.child)
			if !bytes.Equal(got, want) {
				t.Errorf("ours:\n% x\ngo-mp4:\n% x", got, want)
			}
		})
	}
}

// goMP4Stsd encodes an stsd with go-mp4's sample entry types.
func goMP4Stsd(info mux.TrackInfo, configs []*mux.VideoConfig, typ gomp4.BoxType, child func(*boxBuf, *mux.VideoConfig)) []byte {
	b := newBoxBuf()
	if info.Kind() == mux.Audio {
		goMP4Box(b, &gomp4.Stsd{EntryCount: 1}, true)
		goMP4Box(b, &gomp4.AudioSampleEntry{
			SampleEntry:  gomp4.SampleEntry{AnyTypeBox: gomp4.AnyTypeBox{Type: typ}, DataReferenceIndex: 1},
			ChannelCount: uint16(info.Channels), SampleSize: 16, SampleRate: 48000 << 16,
		}, true)
		goMP4Leaf(b, &gomp4.DOps{OutputChannelCount: uint8(info.Channels), PreSkip: opus.DefaultPreSkip, InputSampleRate: 48000})
		b.end()
	} else {
		goMP4Box(b, &gomp4.Stsd{EntryCount: uint32(len(configs))}, true)
		for _, c := range configs {
			goMP4Box(b, &gomp4.VisualSampleEntry{
				SampleEntry: gomp4.SampleEntry{AnyTypeBox: gomp4.AnyTypeBox{Type: typ}, DataReferenceIndex: 1},
				Width:       uint16(c.Width), Height: uint16(c.Height), Horizresolution: 72 << 16, Vertresolution: 72 << 16,
				FrameCount: 1, Depth: 0x0018, PreDefined3: -1,
			}, true)
			child(b, c)
			b.end()
		}
	}
	b.end()
	return b.b
}

func goMP4VpcC(b *boxBuf, c *mux.VideoConfig) {
	depth := c.BitDepth
	if depth == 0 {
		depth = 8
	}
	full := uint8(0)
	if c.FullRange {
		full = 1
	}
	v := &gomp4.VpcC{Profile: c.Profile, Level: c.Level, BitDepth: depth, ChromaSubsampling: c.ChromaSubsampling,
		VideoFullRangeFlag: full, ColourPrimaries: 2, TransferCharacteristics: 2, MatrixCoefficients: 2}
	v.SetVersion(1)
	goMP4Leaf(b, v)
}

// raw returns a writer of a box of type typ holding the configuration
// record as it is (go-mp4 would re-encode its parsed fields).
func raw(typ string) func(b *boxBuf, c *mux.VideoConfig) {
	return func(b *boxBuf, c *mux.VideoConfig) {
		t := gomp4.StrToBoxType(typ)
		b.raw(boxType(binary.BigEndian.Uint32(t[:])), c.Record)
	}
}
