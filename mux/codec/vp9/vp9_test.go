package vp9

import (
	"bytes"
	"errors"
	"testing"

	"github.com/pion/rtp/codecs"

	"github.com/kiroku-sfu/kiroku/mux"
	"github.com/kiroku-sfu/kiroku/mux/codec/internal/codectest"
)

func TestAppendFrameLayers(t *testing.T) {
	base := keyHeader(0, false, 1, []uint32{0}, 160, 120)
	top := []byte{0x86, 0x00, 0x11, 0x22, 0x33} // inter frame of layer 1
	hidden := []byte{0x84, 0x00, 0x44}
	nested := append(append(append([]byte{}, hidden...), top...), 0xc1, 3, 5, 0xc1)
	ss := []byte{0x8a, 0x00, 0x30, 0x00, 0xa0, 0x00, 0x78, 0x01, 0x40, 0x00, 0xf0} // I, B, V; 160x120 and 320x240
	pkt := func(desc []byte, data []byte) []byte { return append(append([]byte{}, desc...), data...) }
	tests := []struct {
		name     string
		payloads [][]byte
		want     []byte
		key      bool
		w, h     int
		err      error
	}{
		{"one layer passes through", [][]byte{pkt([]byte{0x0c}, base)}, base, true, 160, 120, nil},
		{"two layers join", [][]byte{
			pkt([]byte{0x28, 0x00, 0x00}, base[:4]), // L, B; SID 0
			pkt([]byte{0x24, 0x00, 0x00}, base[4:]), // L, E; SID 0
			pkt([]byte{0x2c, 0x02, 0x00}, top),      // L, B, E; SID 1
		}, append(append(append([]byte{}, base...), top...), 0xc1, byte(len(base)), byte(len(top)), 0xc1),
			true, 160, 120, nil},
		{"scalability structure sets the size", [][]byte{
			pkt(ss, base),
			pkt([]byte{0x2c, 0x02, 0x00}, top),
		}, append(append(append([]byte{}, base...), top...), 0xc1, byte(len(base)), byte(len(top)), 0xc1),
			true, 320, 240, nil},
		{"nested superframe flattens", [][]byte{
			pkt([]byte{0x2c, 0x00, 0x00}, base),
			pkt([]byte{0x2c, 0x02, 0x00}, nested),
		}, append(append(append(append([]byte{}, base...), hidden...), top...),
			0xc2, byte(len(base)), 3, 5, 0xc2), true, 160, 120, nil},
		{"inter picture", [][]byte{pkt([]byte{0x0c}, top)}, top, false, 0, 0, nil},
		{"no payloads", nil, nil, false, 0, 0, ErrNoPayloads},
		{"starts mid layer", [][]byte{pkt([]byte{0x04}, base)}, nil, false, 0, 0, ErrNotFrameStart},
		{"starts at layer 1", [][]byte{pkt([]byte{0x2c, 0x02, 0x00}, base)}, nil, false, 0, 0, ErrNotFrameStart},
		{"empty packet", [][]byte{{0x0c}}, nil, false, 0, 0, ErrEmptyPayload},
		{"bad descriptor", [][]byte{pkt([]byte{0x0c}, base), {0x80}}, nil, false, 0, 0, ErrShortPayload},
		{"bad header", [][]byte{pkt([]byte{0x0c}, []byte{0x00})}, nil, false, 0, 0, ErrBadHeader},
		{"nine layers", func() [][]byte {
			var p [][]byte
			for range 9 {
				p = append(p, pkt([]byte{0x0c}, top))
			}
			return p
		}(), nil, false, 0, 0, ErrTooManyFrames},
		{"nested superframes over eight", func() [][]byte {
			p := [][]byte{pkt([]byte{0x0c}, base)}
			for range 4 {
				p = append(p, pkt([]byte{0x0c}, nested))
			}
			return p
		}(), nil, false, 0, 0, ErrTooManyFrames},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDepacketizer()
			got, info, err := d.AppendFrame([]byte{7}, tt.payloads)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if err != nil {
				if !bytes.Equal(got, []byte{7}) {
					t.Fatal("dst changed on error")
				}
				return
			}
			if !bytes.Equal(got[1:], tt.want) {
				t.Fatalf("frame\n% x\nwant\n% x", got[1:], tt.want)
			}
			if info.Keyframe != tt.key {
				t.Fatalf("keyframe = %v", info.Keyframe)
			}
			if tt.key && (info.Config.Width != tt.w || info.Config.Height != tt.h) {
				t.Fatalf("size %dx%d, want %dx%d", info.Config.Width, info.Config.Height, tt.w, tt.h)
			}
		})
	}
}

func TestIsFrameStart(t *testing.T) {
	d := NewDepacketizer()
	tests := []struct {
		in   []byte
		want bool
	}{
		{[]byte{0x08}, true},
		{[]byte{0x28, 0x00, 0x00}, true},
		{[]byte{0x28, 0x02, 0x00}, false}, // spatial layer 1
		{[]byte{0x04}, false},
		{[]byte{0x88}, false}, // truncated
		{nil, false},
	}
	for _, tt := range tests {
		if got := d.IsFrameStart(tt.in); got != tt.want {
			t.Errorf("IsFrameStart(% x) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// TestEncoderRoundTrip packetizes libvpx output in flexible and
// non-flexible mode at MTU 1200 and checks every frame, keyframe flag and
// the key frames' configuration.
func TestEncoderRoundTrip(t *testing.T) {
	clips := []struct {
		name     string
		args     []string
		profile  uint8
		bitDepth uint8
	}{
		{"8-bit", []string{"-c:v", "libvpx-vp9", "-g", "30", "-cpu-used", "8"}, 0, 8},
		{"10-bit", []string{"-c:v", "libvpx-vp9", "-pix_fmt", "yuv420p10le", "-g", "30",
			"-deadline", "realtime", "-cpu-used", "8"}, 2, 10},
	}
	for _, c := range clips {
		frames, ivf := codectest.EncodeIVF(t, c.args...)
		want := mux.VideoConfig{Width: 320, Height: 240, Profile: c.profile, Level: 20,
			BitDepth: c.bitDepth, ChromaSubsampling: 1}
		// ffmpeg's own vpcC for the same stream must agree on every field.
		ffmpegCfg := mp4VPCC(t, ivf)
		ffmpegCfg.Width, ffmpegCfg.Height = 320, 240
		if !ffmpegCfg.Equal(&want) {
			t.Fatalf("%s: ffmpeg's vpcC says %+v, kiroku expects %+v", c.name, ffmpegCfg, want)
		}
		for _, flexible := range []bool{true, false} {
			t.Run(c.name, func(t *testing.T) {
				p := &codecs.VP9Payloader{FlexibleMode: flexible}
				packetize := func(frame []byte) [][]byte { return p.Payload(1200, frame) }
				codectest.RoundTripIVF(t, NewDepacketizer(), frames, packetize, codectest.Same,
					func(t *testing.T, i int, c *mux.VideoConfig) {
						if !c.Equal(&want) {
							t.Fatalf("frame %d: config %+v, want %+v", i, *c, want)
						}
					})
			})
		}
	}
}

// TestJoinedLayersDecode joins two real encoder frames as the spatial layers
// of one picture and checks that ffmpeg decodes the resulting stream with
// both frames of the superframe and no error.
func TestJoinedLayersDecode(t *testing.T) {
	frames, _ := codectest.EncodeIVF(t, "-c:v", "libvpx-vp9", "-g", "30", "-deadline", "realtime", "-cpu-used", "8")
	pkt := func(desc byte, sid byte, data []byte) []byte {
		return append([]byte{desc, sid << 1, 0}, data...)
	}
	d := NewDepacketizer()
	joined, info, err := d.AppendFrame(nil, [][]byte{
		pkt(0x2c, 0, frames[0].Data), // L, B, E; SID 0
		pkt(0x2c, 1, frames[1].Data), // L, B, E; SID 1
	})
	if err != nil || !info.Keyframe {
		t.Fatalf("join: %v, keyframe %v", err, info.Keyframe)
	}
	stream := [][]byte{joined}
	for _, f := range frames[2:] {
		stream = append(stream, f.Data)
	}
	out := decodeIVF(t, stream)
	if got := bytes.Count(out, []byte("\n0,")); got != len(frames) {
		t.Fatalf("decoded %d frames, want %d", got, len(frames))
	}
}

func FuzzDepacketize(f *testing.F) {
	base := keyHeader(0, false, 1, []uint32{0}, 160, 120)
	f.Add(append([]byte{0x28, 0x00, 0x00}, base...), []byte{0x2c, 0x02, 0x00, 0x86, 0x00})
	f.Add(append([]byte{0x8a, 0x00, 0x38, 0x00, 0xa0, 0x00, 0x78, 0x01, 0x40, 0x00, 0xf0, 0x01, 0x04, 0x01}, base...), []byte{0x0c, 0x84, 0x00, 0xc1, 1, 1, 0xc1})
	f.Add([]byte{0xf8, 0x01, 0x22, 0x03, 0x05, 0x06, 0x86}, []byte{0x04, 0x00})
	codectest.FuzzTwoPackets(f, func() mux.FrameDepacketizer { return NewDepacketizer() },
		func(t *testing.T, a, b, frame []byte, info mux.FrameInfo) {
			if info.Keyframe && info.Config == nil {
				t.Fatal("keyframe without config")
			}
		})
}

func BenchmarkAppendFrame(b *testing.B) {
	frame := make([]byte, 6000)
	copy(frame, keyHeader(0, false, 1, []uint32{0}, 640, 360))
	top := make([]byte, 9000)
	top[0] = 0x86
	p := &codecs.VP9Payloader{FlexibleMode: true}
	payloads := p.Payload(1200, frame)
	for _, q := range p.Payload(1200, top) {
		q[0] |= 0x20 // L: layer indices follow the picture ID
		q = append(q[:3], append([]byte{0x02}, q[3:]...)...)
		payloads = append(payloads, q)
	}
	d := NewDepacketizer()
	buf := make([]byte, 0, 16000)
	b.SetBytes(int64(len(frame) + len(top)))
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, _, err = d.AppendFrame(buf[:0], payloads); err != nil {
			b.Fatal(err)
		}
	}
}
