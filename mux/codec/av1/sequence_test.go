package av1

import (
	"bytes"
	"errors"
	"testing"

	"github.com/kiroku-sfu/kiroku/mux/codec/internal/bits"
)

// seqSpec describes a sequence header to build, following §5.5's syntax.
type seqSpec struct {
	profile, level           uint32
	tier                     uint32
	still, reduced           bool
	timing, decoderModel     bool
	initialDisplayDelay      bool
	extraOps                 int
	frameIDs, orderHint      bool
	highBitdepth, twelveBit  bool
	mono                     bool
	colorDesc                []uint32
	fullRange, ssx, ssy      bool
	chromaPos                uint32
	width, height            uint32
	widthBits, heightBits    int
	screenContent, integerMV uint32 // 2: choose (SELECT)
}

func (s seqSpec) payload() []byte {
	w := &bits.Writer{}
	w.Bits(3, uint64(s.profile))
	w.Flag(s.still)
	w.Flag(s.reduced)
	if s.reduced {
		w.Bits(5, uint64(s.level))
	} else {
		s.operatingPoints(w)
	}
	w.Bits(4, uint64(s.widthBits-1))
	w.Bits(4, uint64(s.heightBits-1))
	w.Bits(s.widthBits, uint64(s.width-1))
	w.Bits(s.heightBits, uint64(s.height-1))
	if !s.reduced {
		w.Flag(s.frameIDs)
		if s.frameIDs {
			w.Bits(4, 5)
			w.Bits(3, 2)
		}
	}
	w.Bits(3, 0b101) // 128x128 superblocks, no filter intra, intra edge filter
	if !s.reduced {
		s.tools(w)
	}
	w.Bits(3, 0b011) // no superres, cdef, restoration
	s.color(w)
	w.Bits(1, 0) // film_grain_params_present
	w.Bits(1, 1) // trailing one bit
	return w.Bytes()
}

func (s seqSpec) operatingPoints(w *bits.Writer) {
	w.Flag(s.timing)
	if s.timing {
		w.Bits(32, 1001)
		w.Bits(32, 30000)
		// equal interval, uvlc 3 (=0b00100)
		w.Bits(1, 1)
		w.Bits(5, 0b00101)
		w.Flag(s.decoderModel)
		if s.decoderModel {
			w.Bits(5, 9)
			w.Bits(32, 90000)
			w.Bits(5, 23)
			w.Bits(5, 15)
		}
	}
	w.Flag(s.initialDisplayDelay)
	w.Bits(5, uint64(s.extraOps))
	for i := 0; i <= s.extraOps; i++ {
		level := s.level
		if i > 0 {
			level = 31 // a different level for later operating points
		}
		w.Bits(12, uint64(0x101+i))
		w.Bits(5, uint64(level))
		if level > 7 {
			w.Bits(1, uint64(s.tier))
		}
		if s.decoderModel {
			w.Bits(1, 1)
			w.Bits(10, 0x3ff)
			w.Bits(10, 0x155)
			w.Bits(1, 1)
		}
		if s.initialDisplayDelay {
			w.Bits(1, 1)
			w.Bits(4, 9)
		}
	}
}

func (s seqSpec) tools(w *bits.Writer) {
	w.Bits(4, 0b1010)
	w.Flag(s.orderHint)
	if s.orderHint {
		w.Bits(2, 0b11)
	}
	if s.screenContent == 2 {
		w.Bits(1, 1)
	} else {
		w.Bits(1, 0)
		w.Bits(1, uint64(s.screenContent))
	}
	if s.screenContent > 0 {
		if s.integerMV == 2 {
			w.Bits(1, 1)
		} else {
			w.Bits(1, 0)
			w.Bits(1, uint64(s.integerMV))
		}
	}
	if s.orderHint {
		w.Bits(3, 6)
	}
}

func (s seqSpec) color(w *bits.Writer) {
	w.Flag(s.highBitdepth)
	if s.profile == 2 && s.highBitdepth {
		w.Flag(s.twelveBit)
	}
	if s.profile != 1 {
		w.Flag(s.mono)
	}
	w.Flag(s.colorDesc != nil)
	for _, c := range s.colorDesc {
		w.Bits(8, uint64(c))
	}
	switch {
	case s.mono:
		w.Flag(s.fullRange)
		return
	case len(s.colorDesc) == 3 && s.colorDesc[0] == 1 && s.colorDesc[1] == 13 && s.colorDesc[2] == 0:
	default:
		w.Flag(s.fullRange)
		if s.profile == 2 && s.twelveBit {
			w.Flag(s.ssx)
			if s.ssx {
				w.Flag(s.ssy)
			}
		}
		if s.ssx && s.ssy {
			w.Bits(2, uint64(s.chromaPos))
		}
	}
	w.Bits(1, 0) // separate_uv_delta_q
}

// seqOBU wraps a sequence header payload in an OBU with a size field.
func seqOBU(payload []byte) []byte {
	return append(append([]byte{0x0a}, appendLEB128(nil, uint64(len(payload)))...), payload...)
}

var baseSpec = seqSpec{profile: 0, level: 8, width: 1280, height: 720, widthBits: 11, heightBits: 10,
	orderHint: true, screenContent: 2, integerMV: 2, ssx: true, ssy: true}

func TestParseSequenceHeader(t *testing.T) {
	with := func(f func(*seqSpec)) seqSpec { s := baseSpec; f(&s); return s }
	tests := []struct {
		name  string
		spec  seqSpec
		check func(SequenceHeader) bool
		av1C2 byte // third byte of av1C
		av1C1 byte
	}{
		{"main 4:2:0", baseSpec, func(s SequenceHeader) bool {
			return s.MaxFrameWidth == 1280 && s.MaxFrameHeight == 720 && s.OrderHintBits == 7 &&
				s.Color.BitDepth == 8 && s.OperatingPoints == 1 && s.OperatingPointIdc == 0x101
		}, 0x0c, 0x08},
		{"tier 1 with chroma position", with(func(s *seqSpec) { s.tier, s.chromaPos = 1, 2 }),
			func(s SequenceHeader) bool { return s.Tier == 1 && s.Color.ChromaSamplePosition == 2 }, 0x8e, 0x08},
		{"low level has no tier bit", with(func(s *seqSpec) { s.level, s.tier = 5, 1 }),
			func(s SequenceHeader) bool { return s.Tier == 0 && s.LevelIdx == 5 }, 0x0c, 0x05},
		{"timing, decoder model, display delay, 3 points", with(func(s *seqSpec) {
			s.timing, s.decoderModel, s.initialDisplayDelay, s.extraOps = true, true, true, 2
		}), func(s SequenceHeader) bool {
			return s.TimingInfoPresent && s.DecoderModelInfoPresent && s.OperatingPoints == 3 &&
				s.LevelIdx == 8 && s.MaxFrameWidth == 1280 && s.OrderHintBits == 7
		}, 0x0c, 0x08},
		{"timing without decoder model", with(func(s *seqSpec) { s.timing = true }),
			func(s SequenceHeader) bool { return s.TimingInfoPresent && s.MaxFrameHeight == 720 }, 0x0c, 0x08},
		{"frame ids, fixed screen content tools", with(func(s *seqSpec) {
			s.frameIDs, s.screenContent, s.integerMV, s.orderHint = true, 1, 0, false
		}), func(s SequenceHeader) bool {
			return s.FrameIDNumbersPresent && s.OrderHintBits == 0 && s.MaxFrameWidth == 1280
		}, 0x0c, 0x08},
		{"no screen content tools", with(func(s *seqSpec) { s.screenContent = 0 }),
			func(s SequenceHeader) bool { return s.OrderHintBits == 7 }, 0x0c, 0x08},
		{"reduced still picture", with(func(s *seqSpec) { s.still, s.reduced, s.level = true, true, 12 }),
			func(s SequenceHeader) bool {
				return s.ReducedStillPictureHeader && s.LevelIdx == 12 && s.MaxFrameWidth == 1280
			}, 0x0c, 0x0c},
		{"10-bit full range", with(func(s *seqSpec) { s.highBitdepth, s.fullRange = true, true }),
			func(s SequenceHeader) bool { return s.Color.BitDepth == 10 && s.Color.FullRange }, 0x4c, 0x08},
		{"monochrome", with(func(s *seqSpec) { s.mono = true }),
			func(s SequenceHeader) bool { return s.Color.MonoChrome && s.Color.SubsamplingX }, 0x1c, 0x08},
		{"sRGB identity is 4:4:4", with(func(s *seqSpec) { s.profile, s.colorDesc, s.ssx, s.ssy = 1, []uint32{1, 13, 0}, false, false }),
			func(s SequenceHeader) bool {
				return s.Color.FullRange && !s.Color.SubsamplingX && s.Color.MatrixCoefficients == 0
			}, 0x00, 0x28},
		{"profile 1 4:4:4", with(func(s *seqSpec) { s.profile, s.colorDesc, s.ssx, s.ssy = 1, []uint32{1, 1, 1}, false, false }),
			func(s SequenceHeader) bool { return !s.Color.SubsamplingX && s.Color.ColorPrimaries == 1 }, 0x00, 0x28},
		{"profile 2 12-bit 4:2:2", with(func(s *seqSpec) {
			s.profile, s.highBitdepth, s.twelveBit, s.ssx, s.ssy = 2, true, true, true, false
		}), func(s SequenceHeader) bool {
			return s.Color.BitDepth == 12 && s.Color.SubsamplingX && !s.Color.SubsamplingY
		}, 0x68, 0x48},
		{"profile 2 10-bit is 4:2:2", with(func(s *seqSpec) { s.profile, s.highBitdepth, s.ssy = 2, true, false }),
			func(s SequenceHeader) bool { return s.Color.BitDepth == 10 && !s.Color.SubsamplingY }, 0x48, 0x48},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obu := seqOBU(tt.spec.payload())
			s, err := ParseSequenceHeader(obu)
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(s) {
				t.Fatalf("unexpected %+v", s)
			}
			rec, err := ConfigRecord(obu)
			if err != nil {
				t.Fatal(err)
			}
			want := append([]byte{0x81, tt.av1C1, tt.av1C2, 0}, obu...)
			if !bytes.Equal(rec, want) {
				t.Fatalf("av1C % x, want % x", rec, want)
			}
		})
	}
}

func TestParseSequenceHeaderErrors(t *testing.T) {
	good := baseSpec.payload()
	noSize := append([]byte{0x08}, good...)
	if _, err := ParseSequenceHeader(noSize); err != nil {
		t.Fatalf("OBU without size field: %v", err)
	}
	tests := []struct {
		name string
		in   []byte
		err  error
	}{
		{"empty", nil, ErrBadOBU},
		{"not a sequence header", append([]byte{0x30}, good...), ErrBadSequenceHeader},
		{"forbidden bit", append([]byte{0x88}, good...), ErrBadOBU},
		{"size mismatch", append([]byte{0x0a, 0x03}, good...), ErrBadOBU},
		{"truncated", seqOBU(good[:5]), ErrBadSequenceHeader},
		{"profile 3", seqOBU([]byte{0x60, 0, 0, 0, 0, 0, 0, 0, 0, 0}), ErrBadSequenceHeader},
		{"reduced without still", seqOBU(func() []byte { s := baseSpec; s.reduced = true; return s.payload() }()), ErrBadSequenceHeader},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseSequenceHeader(tt.in); !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if _, err := ConfigRecord(tt.in); err == nil {
				t.Fatal("ConfigRecord accepted it")
			}
		})
	}
}

func TestLEB128(t *testing.T) {
	tests := []struct {
		in []byte
		v  uint64
		n  int
	}{
		{[]byte{0x00}, 0, 1},
		{[]byte{0x7f}, 127, 1},
		{[]byte{0x80, 0x01}, 128, 2},
		{[]byte{0xff, 0xff, 0xff, 0xff, 0x0f}, 1<<32 - 1, 5},
		{[]byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, 0, 8}, // padded, still valid
		{[]byte{0xff, 0xff, 0xff, 0xff, 0x1f}, 0, 0},                   // over 2^32 - 1
		{[]byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, 0, 0},
		{[]byte{0x80}, 0, 0},
		{nil, 0, 0},
	}
	for _, tt := range tests {
		v, n := readLEB128(tt.in)
		if v != tt.v || n != tt.n {
			t.Errorf("readLEB128(% x) = %d, %d; want %d, %d", tt.in, v, n, tt.v, tt.n)
		}
		if n > 0 {
			enc := appendLEB128(nil, v)
			if back, m := readLEB128(enc); back != v || m != len(enc) {
				t.Errorf("appendLEB128(%d) = % x does not read back", v, enc)
			}
		}
	}
}

func FuzzParseSequenceHeader(f *testing.F) {
	f.Add(seqOBU(baseSpec.payload()))
	s := baseSpec
	s.timing, s.decoderModel, s.initialDisplayDelay, s.extraOps = true, true, true, 2
	f.Add(seqOBU(s.payload()))
	s = baseSpec
	s.still, s.reduced = true, true
	f.Add(seqOBU(s.payload()))
	f.Fuzz(func(t *testing.T, b []byte) {
		sh, err := ParseSequenceHeader(b)
		rec, recErr := ConfigRecord(b)
		if (err == nil) != (recErr == nil) {
			t.Fatalf("ParseSequenceHeader %v but ConfigRecord %v", err, recErr)
		}
		if err == nil && (sh.MaxFrameWidth < 1 || len(rec) < 5 || rec[0] != 0x81) {
			t.Fatalf("bad result %+v % x", sh, rec)
		}
	})
}
