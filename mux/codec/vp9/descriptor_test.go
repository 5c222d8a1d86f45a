package vp9

import (
	"errors"
	"testing"
)

func TestParseDescriptor(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want Descriptor
		err  error
	}{
		{"flags only", []byte{0x0c, 0xff}, Descriptor{Begin: true, End: true, Size: 1}, nil},
		{"Z bit", []byte{0x0d, 0xff}, Descriptor{Begin: true, End: true, NotReference: true, Size: 1}, nil},
		{"7-bit picture id", []byte{0x88, 0x05, 0xff},
			Descriptor{HasPictureID: true, PictureID: 5, Begin: true, Size: 2}, nil},
		{"15-bit picture id", []byte{0x84, 0xfa, 0xbc, 0xff},
			Descriptor{HasPictureID: true, PictureID: 0x7abc, End: true, Size: 3}, nil},
		{"non-flexible layers", []byte{0xa8, 0x01, 0x5b, 0x22, 0xff},
			Descriptor{HasPictureID: true, PictureID: 1, HasLayers: true, Begin: true,
				TID: 2, SwitchingUp: true, SID: 5, InterLayer: true, TL0PicIdx: 0x22, Size: 4}, nil},
		{"flexible with three P_DIFFs", []byte{0xf8, 0x01, 0x22, 0x03, 0x05, 0x06, 0xff},
			Descriptor{HasPictureID: true, PictureID: 1, InterPicture: true, HasLayers: true,
				Flexible: true, Begin: true, TID: 1, SID: 1, PDiffs: [3]uint8{1, 2, 3}, NumPDiffs: 3, Size: 6}, nil},
		{"flexible without P has no P_DIFF", []byte{0x98, 0x01, 0xff},
			Descriptor{HasPictureID: true, PictureID: 1, Flexible: true, Begin: true, Size: 2}, nil},
		{"SS with sizes and groups", []byte{0x8a, 0x01,
			0x38,                   // N_S=1 (2 layers), Y, G
			0x00, 0xa0, 0x00, 0x78, // 160x120
			0x01, 0x40, 0x00, 0xf0, // 320x240
			0x02,       // N_G = 2
			0x04, 0x01, // TID 0, R=1, one P_DIFF
			0x28, 0x01, 0x02, // TID 1, R=2
			0xff},
			Descriptor{HasPictureID: true, PictureID: 1, Begin: true, HasSS: true,
				SSWidth: 320, SSHeight: 240, Size: 17}, nil},
		{"SS without sizes", []byte{0x0a, 0x00, 0xff}, Descriptor{Begin: true, HasSS: true, Size: 2}, nil},
		{"empty", nil, Descriptor{}, ErrShortPayload},
		{"picture id truncated", []byte{0x80}, Descriptor{}, ErrShortPayload},
		{"extended picture id truncated", []byte{0x80, 0x80}, Descriptor{}, ErrShortPayload},
		{"layers truncated", []byte{0x20}, Descriptor{}, ErrShortPayload},
		{"TL0PICIDX truncated", []byte{0x20, 0x00}, Descriptor{}, ErrShortPayload},
		{"P_DIFF truncated", []byte{0x50, 0x01}, Descriptor{}, ErrShortPayload},
		{"four P_DIFFs", []byte{0x50, 0x03, 0x05, 0x07, 0x09, 0xff}, Descriptor{}, ErrBadDescriptor},
		{"SS truncated", []byte{0x02}, Descriptor{}, ErrShortPayload},
		{"SS sizes truncated", []byte{0x02, 0x30, 0x00, 0xa0, 0x00, 0x78, 0x01}, Descriptor{}, ErrShortPayload},
		{"SS group count truncated", []byte{0x02, 0x08}, Descriptor{}, ErrShortPayload},
		{"SS group truncated", []byte{0x02, 0x08, 0x01}, Descriptor{}, ErrShortPayload},
		{"SS group P_DIFFs truncated", []byte{0x02, 0x08, 0x01, 0x0c, 0x01}, Descriptor{}, ErrShortPayload},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseDescriptor(tt.in)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if err == nil && got != tt.want {
				t.Fatalf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}
