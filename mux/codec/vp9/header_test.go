package vp9

import (
	"errors"
	"testing"

	"github.com/kiroku-sfu/kiroku/mux/codec/internal/bits"
)

// keyHeader builds a key frame's uncompressed header up to the frame size.
// colorBits are the color_config bits after the bit depth flag.
func keyHeader(profile uint32, highDepth bool, colorSpace uint32, colorBits []uint32, w, h uint32) []byte {
	bw := &bits.Writer{}
	bw.Bits(2, 2)
	bw.Bits(1, uint64(profile&1))
	bw.Bits(1, uint64(profile>>1))
	if profile == 3 {
		bw.Bits(1, 0)
	}
	bw.Bits(4, 0b0010) // show_existing 0, frame_type 0 (KEY_FRAME), show 1, error_res 0
	bw.Bits(24, 0x498342)
	if profile >= 2 {
		bw.Flag(highDepth)
	}
	bw.Bits(3, uint64(colorSpace))
	for _, b := range colorBits {
		bw.Bits(1, uint64(b))
	}
	bw.Bits(16, uint64(w-1))
	bw.Bits(16, uint64(h-1))
	return append(bw.Bytes(), 0xee, 0xee)
}

func TestParseHeader(t *testing.T) {
	tests := []struct {
		name   string
		in     []byte
		want   Header
		chroma uint8
		err    error
	}{
		{"profile 0 key", keyHeader(0, false, 1, []uint32{0}, 320, 240),
			Header{Keyframe: true, ShowFrame: true, BitDepth: 8, ColorSpace: 1, SubsamplingX: true,
				SubsamplingY: true, Width: 320, Height: 240}, 1, nil},
		{"profile 0 full range", keyHeader(0, false, 2, []uint32{1}, 1920, 1080),
			Header{Keyframe: true, ShowFrame: true, BitDepth: 8, ColorSpace: 2, FullRange: true,
				SubsamplingX: true, SubsamplingY: true, Width: 1920, Height: 1080}, 1, nil},
		{"profile 1 4:4:4", keyHeader(1, false, 1, []uint32{0, 0, 0, 0}, 64, 64),
			Header{Profile: 1, Keyframe: true, ShowFrame: true, BitDepth: 8, ColorSpace: 1, Width: 64, Height: 64}, 3, nil},
		{"profile 1 4:2:2", keyHeader(1, false, 1, []uint32{0, 1, 0, 0}, 64, 64),
			Header{Profile: 1, Keyframe: true, ShowFrame: true, BitDepth: 8, ColorSpace: 1,
				SubsamplingX: true, Width: 64, Height: 64}, 2, nil},
		{"profile 2 10-bit", keyHeader(2, false, 1, []uint32{0}, 640, 360),
			Header{Profile: 2, Keyframe: true, ShowFrame: true, BitDepth: 10, ColorSpace: 1,
				SubsamplingX: true, SubsamplingY: true, Width: 640, Height: 360}, 1, nil},
		{"profile 3 12-bit RGB", keyHeader(3, true, colorSpaceRGB, []uint32{0}, 16, 16),
			Header{Profile: 3, Keyframe: true, ShowFrame: true, BitDepth: 12, ColorSpace: 7, FullRange: true,
				Width: 16, Height: 16}, 3, nil},
		{"inter frame", []byte{0x86, 0x00}, Header{ShowFrame: true}, 0, nil},
		{"show existing", []byte{0x88 | 0x05}, Header{ShowExistingFrame: true}, 0, nil},
		{"profile 3 reserved bit", []byte{0xb8, 0x00}, Header{}, 0, ErrBadHeader},
		{"bad marker", []byte{0x40}, Header{}, 0, ErrBadHeader},
		{"bad sync code", []byte{0x82, 0x49, 0x83, 0x43, 0x00, 0x00, 0x00, 0x00}, Header{}, 0, ErrBadHeader},
		{"truncated", keyHeader(0, false, 1, []uint32{0}, 320, 240)[:6], Header{}, 0, ErrBadHeader},
		{"empty", nil, Header{}, 0, ErrBadHeader},
		{"RGB in profile 0", keyHeader(0, false, colorSpaceRGB, nil, 16, 16), Header{}, 0, ErrBadHeader},
		{"4:2:0 in profile 1", keyHeader(1, false, 1, []uint32{0, 1, 1, 0}, 16, 16), Header{}, 0, ErrBadHeader},
		{"profile 1 reserved bit", keyHeader(1, false, 1, []uint32{0, 0, 0, 1}, 16, 16), Header{}, 0, ErrBadHeader},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseHeader(tt.in)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if err != nil {
				return
			}
			if got != tt.want {
				t.Fatalf("got  %+v\nwant %+v", got, tt.want)
			}
			if c, _ := got.ChromaSubsampling(); got.Keyframe && c != tt.chroma {
				t.Fatalf("chroma = %d, want %d", c, tt.chroma)
			}
		})
	}
}

func TestLevel(t *testing.T) {
	tests := []struct {
		w, h int
		want uint8
	}{
		{192, 108, 10}, {256, 144, 11}, {320, 240, 20}, {640, 360, 21}, {640, 480, 30}, {1280, 720, 31},
		{1920, 1080, 40}, {3840, 2160, 50}, {7680, 4320, 60}, {16832, 2118, 60}, {20000, 20000, 0},
		{1000, 10, 21}, // the width limit, not the area, decides
	}
	for _, tt := range tests {
		if got := Level(tt.w, tt.h); got != tt.want {
			t.Errorf("Level(%d, %d) = %d, want %d", tt.w, tt.h, got, tt.want)
		}
	}
}
