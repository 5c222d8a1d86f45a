package vp9

import (
	"bytes"
	"errors"
	"testing"

	"github.com/pion/rtp/codecs"

	"github.com/kiroku-sfu/kiroku/mux"
)

// bitWriter builds hand-made uncompressed headers.
type bitWriter struct {
	b []byte
	n int
}

func (w *bitWriter) put(v uint32, bits int) *bitWriter {
	for i := bits - 1; i >= 0; i-- {
		if w.n%8 == 0 {
			w.b = append(w.b, 0)
		}
		w.b[len(w.b)-1] |= byte(v>>i&1) << (7 - w.n%8)
		w.n++
	}
	return w
}

// keyHeader builds a key frame's uncompressed header up to the frame size.
// colorBits are the color_config bits after the bit depth flag.
func keyHeader(profile uint32, highDepth bool, colorSpace uint32, colorBits []uint32, w, h uint32) []byte {
	bw := &bitWriter{}
	bw.put(2, 2).put(profile&1, 1).put(profile>>1, 1)
	if profile == 3 {
		bw.put(0, 1)
	}
	bw.put(0, 1).put(0, 1).put(1, 1).put(0, 1) // show_existing, KEY_FRAME, show, error_res
	bw.put(0x498342, 24)
	if profile >= 2 {
		bw.put(b2u(highDepth), 1)
	}
	bw.put(colorSpace, 3)
	for _, b := range colorBits {
		bw.put(b, 1)
	}
	bw.put(w-1, 16).put(h-1, 16)
	return append(bw.b, 0xee, 0xee)
}

func b2u(b bool) uint32 {
	if b {
		return 1
	}
	return 0
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

func TestSuperframeIndex(t *testing.T) {
	tests := []struct {
		name  string
		sizes []int
		index []byte
	}{
		{"two small", []int{3, 2}, []byte{0xc1, 3, 2, 0xc1}},
		{"two-byte sizes", []int{300, 1}, []byte{0xc9, 0x2c, 0x01, 0x01, 0x00, 0xc9}},
		{"four-byte sizes", []int{1 << 24, 1, 2}, []byte{0xda, 0, 0, 0, 1, 1, 0, 0, 0, 2, 0, 0, 0, 0xda}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			idx := appendSuperframeIndex(nil, tt.sizes)
			if !bytes.Equal(idx, tt.index) {
				t.Fatalf("index = % x, want % x", idx, tt.index)
			}
			total := 0
			for _, s := range tt.sizes {
				total += s
			}
			data := append(make([]byte, total), idx...)
			var sizes [maxFrames]int
			n, l := superframeIndex(data, &sizes)
			if n != len(tt.sizes) || l != len(idx) || !equalInts(sizes[:n], tt.sizes) {
				t.Fatalf("parsed %d frames %v, index %d", n, sizes[:n], l)
			}
			if n, _ := superframeIndex(data[1:], &sizes); n != 0 {
				t.Fatal("inconsistent sizes accepted")
			}
		})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

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
		frames := encodeIVF(t, c.args...)
		want := mux.VideoConfig{Width: 320, Height: 240, Profile: c.profile, Level: 20,
			BitDepth: c.bitDepth, ChromaSubsampling: 1}
		for _, flexible := range []bool{true, false} {
			t.Run(c.name, func(t *testing.T) {
				p := &codecs.VP9Payloader{FlexibleMode: flexible}
				checkRoundTrip(t, frames, p, &want)
			})
		}
	}
}

func checkRoundTrip(t *testing.T, frames []encodedFrame, p *codecs.VP9Payloader, want *mux.VideoConfig) {
	t.Helper()
	d := NewDepacketizer()
	var buf []byte
	keyframes := 0
	for i, f := range frames {
		payloads := p.Payload(1200, f.data)
		if !d.IsFrameStart(payloads[0]) {
			t.Fatalf("frame %d: first packet is no frame start", i)
		}
		var info mux.FrameInfo
		var err error
		if buf, info, err = d.AppendFrame(buf[:0], payloads); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if !bytes.Equal(buf, f.data) {
			t.Fatalf("frame %d differs from the encoder's", i)
		}
		if info.Keyframe != f.keyframe {
			t.Fatalf("frame %d: keyframe %v, ffprobe says %v", i, info.Keyframe, f.keyframe)
		}
		if info.Keyframe {
			keyframes++
			if !info.Config.Equal(want) {
				t.Fatalf("frame %d: config %+v, want %+v", i, *info.Config, *want)
			}
		}
	}
	if keyframes < 2 {
		t.Fatalf("%d keyframes in a 2 s clip with -g 30", keyframes)
	}
}

// TestJoinedLayersDecode joins two real encoder frames as the spatial layers
// of one picture and checks that ffmpeg decodes the resulting stream with
// both frames of the superframe and no error.
func TestJoinedLayersDecode(t *testing.T) {
	frames := encodeIVF(t, "-c:v", "libvpx-vp9", "-g", "30", "-deadline", "realtime", "-cpu-used", "8")
	pkt := func(desc byte, sid byte, data []byte) []byte {
		return append([]byte{desc, sid << 1, 0}, data...)
	}
	d := NewDepacketizer()
	joined, info, err := d.AppendFrame(nil, [][]byte{
		pkt(0x2c, 0, frames[0].data), // L, B, E; SID 0
		pkt(0x2c, 1, frames[1].data), // L, B, E; SID 1
	})
	if err != nil || !info.Keyframe {
		t.Fatalf("join: %v, keyframe %v", err, info.Keyframe)
	}
	stream := [][]byte{joined}
	for _, f := range frames[2:] {
		stream = append(stream, f.data)
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
	f.Fuzz(func(t *testing.T, a, b []byte) {
		d := NewDepacketizer()
		d.IsFrameStart(a)
		out, info, err := d.AppendFrame([]byte{1}, [][]byte{a, b})
		if err != nil {
			if len(out) != 1 {
				t.Fatal("dst changed on error")
			}
			return
		}
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
