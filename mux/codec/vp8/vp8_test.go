package vp8

import (
	"bytes"
	"errors"
	"testing"

	"github.com/pion/rtp/codecs"

	"github.com/kiroku-sfu/kiroku/mux"
	"github.com/kiroku-sfu/kiroku/mux/codec/internal/codectest"
)

// keyframe320 is the start of a VP8 key frame: tag (key, version 0, shown),
// start code, 320x240 with the horizontal scale bits set (they are ignored).
var keyframe320 = []byte{0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0xc1, 0xf0, 0x00, 0xaa}

func TestParseDescriptor(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		want    Descriptor
		wantErr error
	}{
		{"minimal", []byte{0x10, 0xff}, Descriptor{Start: true, Size: 1}, nil},
		{"N and PID", []byte{0x25, 0xff}, Descriptor{NonReference: true, PartitionID: 5, Size: 1}, nil},
		{"X without fields", []byte{0x90, 0x00, 0xff}, Descriptor{Start: true, Size: 2}, nil},
		{"7-bit picture id", []byte{0x90, 0x80, 0x7f, 0xff},
			Descriptor{Start: true, PictureID: 0x7f, HasPictureID: true, Size: 3}, nil},
		{"15-bit picture id", []byte{0x90, 0x80, 0x81, 0x23, 0xff},
			Descriptor{Start: true, PictureID: 0x123, HasPictureID: true, Size: 4}, nil},
		{"all extensions", []byte{0x90, 0xf0, 0x80 | 0x12, 0x34, 0x56, 0xb5, 0xff},
			Descriptor{Start: true, PictureID: 0x1234, HasPictureID: true, TL0PicIdx: 0x56,
				HasTL0PicIdx: true, TID: 2, LayerSync: true, HasTID: true, KeyIdx: 0x15,
				HasKeyIdx: true, Size: 6}, nil},
		{"K only", []byte{0x80, 0x10, 0x07, 0xff}, Descriptor{KeyIdx: 7, HasKeyIdx: true, Size: 3}, nil},
		{"T only", []byte{0x80, 0x20, 0x40, 0xff}, Descriptor{TID: 1, HasTID: true, Size: 3}, nil},
		{"empty", nil, Descriptor{}, ErrShortPayload},
		{"X truncated", []byte{0x80}, Descriptor{}, ErrShortPayload},
		{"I truncated", []byte{0x80, 0x80}, Descriptor{}, ErrShortPayload},
		{"M truncated", []byte{0x80, 0x80, 0x80}, Descriptor{}, ErrShortPayload},
		{"L truncated", []byte{0x80, 0x40}, Descriptor{}, ErrShortPayload},
		{"TK truncated", []byte{0x80, 0x30}, Descriptor{}, ErrShortPayload},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseDescriptor(tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err == nil && got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestAppendFrame(t *testing.T) {
	key := keyframe320
	inter := []byte{0x11, 0x02, 0x00, 0xbb}
	tests := []struct {
		name     string
		payloads [][]byte
		want     []byte
		keyframe bool
		wantErr  error
	}{
		{"key in one packet", [][]byte{append([]byte{0x10}, key...)}, key, true, nil},
		{"key split with picture ids", [][]byte{
			append([]byte{0x90, 0x80, 0x81, 0x00}, key[:4]...),
			append([]byte{0x80, 0x80, 0x81, 0x00}, key[4:]...),
		}, key, true, nil},
		{"inter frame over partitions", [][]byte{
			append([]byte{0x10}, inter[:2]...),
			append([]byte{0x11}, inter[2:]...),
		}, inter, false, nil},
		{"no payloads", nil, nil, false, ErrNoPayloads},
		{"first packet not S", [][]byte{append([]byte{0x00}, key...)}, nil, false, ErrNotFrameStart},
		{"first packet partition 1", [][]byte{append([]byte{0x11}, key...)}, nil, false, ErrNotFrameStart},
		{"descriptor only", [][]byte{{0x10}}, nil, false, ErrEmptyPayload},
		{"truncated descriptor later", [][]byte{append([]byte{0x10}, key...), {0x80}}, nil, false, ErrShortPayload},
		{"short key header", [][]byte{append([]byte{0x10}, key[:8]...)}, nil, false, ErrBadKeyframe},
		{"bad start code", [][]byte{{0x10, 0x10, 0x02, 0x00, 0x9d, 0x01, 0x2b, 0x40, 0x01, 0xf0, 0x00}}, nil, false, ErrBadKeyframe},
		{"zero width", [][]byte{{0x10, 0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x00, 0x00, 0xf0, 0x00}}, nil, false, ErrBadKeyframe},
		{"short tag", [][]byte{{0x10, 0x11, 0x00}}, nil, false, ErrBadFrameHeader},
		{"bad version", [][]byte{{0x10, 0x1f, 0x00, 0x00}}, nil, false, ErrBadFrameHeader},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDepacketizer()
			prefix := []byte("prefix")
			got, info, err := d.AppendFrame(append([]byte(nil), prefix...), tt.payloads)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				if !bytes.Equal(got, prefix) {
					t.Fatalf("dst changed on error: %q", got)
				}
				return
			}
			if !bytes.Equal(got, append(prefix, tt.want...)) {
				t.Fatalf("frame = % x, want % x", got[len(prefix):], tt.want)
			}
			if info.Keyframe != tt.keyframe || (info.Config != nil) != tt.keyframe {
				t.Fatalf("info = %+v, want keyframe %v", info, tt.keyframe)
			}
		})
	}
}

func TestKeyframeConfig(t *testing.T) {
	d := NewDepacketizer()
	_, info, err := d.AppendFrame(nil, [][]byte{append([]byte{0x10}, keyframe320...)})
	if err != nil {
		t.Fatal(err)
	}
	want := mux.VideoConfig{Width: 320, Height: 240, BitDepth: 8, ChromaSubsampling: 1}
	if !info.Config.Equal(&want) {
		t.Fatalf("config = %+v, want %+v", *info.Config, want)
	}
	// Version 3 is profile 3.
	v3 := append([]byte{0x10}, keyframe320...)
	v3[1] |= 3 << 1
	_, info2, err := d.AppendFrame(nil, [][]byte{v3})
	if err != nil {
		t.Fatal(err)
	}
	if info2.Config.Profile != 3 {
		t.Fatalf("profile = %d, want 3", info2.Config.Profile)
	}
	if info.Config.Profile != 0 {
		t.Fatal("an earlier config was modified")
	}
}

func TestIsFrameStart(t *testing.T) {
	tests := []struct {
		in   []byte
		want bool
	}{
		{[]byte{0x10, 0x00}, true},
		{[]byte{0x90, 0x80, 0x81, 0x00, 0x00}, true},
		{[]byte{0x00, 0x00}, false},
		{[]byte{0x11, 0x00}, false},
		{[]byte{0x90}, false},
		{nil, false},
	}
	d := NewDepacketizer()
	for _, tt := range tests {
		if got := d.IsFrameStart(tt.in); got != tt.want {
			t.Errorf("IsFrameStart(% x) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// TestEncoderRoundTrip packetizes real encoder output at MTU 1200 and checks
// that every frame comes back byte for byte with the encoder's keyframes.
func TestEncoderRoundTrip(t *testing.T) {
	frames, _ := codectest.EncodeIVF(t, "-c:v", "libvpx", "-g", "30", "-b:v", "1M")
	payloader := &codecs.VP8Payloader{EnablePictureID: true}
	packetize := func(frame []byte) [][]byte { return payloader.Payload(1200, frame) }
	codectest.RoundTripIVF(t, NewDepacketizer(), frames, packetize, codectest.Same,
		func(t *testing.T, i int, c *mux.VideoConfig) {
			if c.Width != 320 || c.Height != 240 {
				t.Fatalf("frame %d: size %dx%d", i, c.Width, c.Height)
			}
		})
}

func FuzzDepacketize(f *testing.F) {
	f.Add(append([]byte{0x10}, keyframe320...), []byte{0x00, 0x01})
	f.Add([]byte{0x90, 0xf0, 0x92, 0x34, 0x56, 0xb5, 0x11, 0x00, 0x00}, []byte{})
	f.Add([]byte{0x80}, []byte{0x80, 0x80})
	codectest.FuzzTwoPackets(f, func() mux.FrameDepacketizer { return NewDepacketizer() },
		func(t *testing.T, a, b, frame []byte, info mux.FrameInfo) {
			if info.Keyframe && (info.Config == nil || info.Config.Width == 0) {
				t.Fatal("keyframe without a config")
			}
			if len(frame) > len(a)+len(b)-2 {
				t.Fatal("frame longer than its payloads without descriptors")
			}
		})
}

func BenchmarkAppendFrame(b *testing.B) {
	frame := make([]byte, 4000)
	copy(frame, []byte{0x11, 0x02, 0x00})
	payloads := (&codecs.VP8Payloader{EnablePictureID: true}).Payload(1200, frame)
	d := NewDepacketizer()
	buf := make([]byte, 0, len(frame))
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, _, err = d.AppendFrame(buf[:0], payloads); err != nil {
			b.Fatal(err)
		}
	}
}
