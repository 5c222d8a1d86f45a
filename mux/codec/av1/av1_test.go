package av1

import (
	"bytes"
	"errors"
	"testing"

	"github.com/pion/rtp/codecs"

	"github.com/kiroku-sfu/kiroku/mux"
	"github.com/kiroku-sfu/kiroku/mux/codec/internal/codectest"
)

// OBUs as an RTP sender carries them: no size field.
var (
	seqPayload = baseSpec.payload()
	rtpSeq     = append([]byte{0x08}, seqPayload...)
	rtpKey     = []byte{0x30, 0x10, 0xaa, 0xbb, 0xcc} // frame OBU: KEY_FRAME, shown
	rtpInter   = []byte{0x30, 0x30, 0x11, 0x22}       // frame OBU: INTER_FRAME, shown
	rtpHidden  = []byte{0x30, 0x00, 0x01}             // frame OBU: KEY_FRAME, not shown
	rtpExist   = []byte{0x18, 0x80 | 0x10}            // frame header: show_existing_frame
	rtpExt     = []byte{0x34, 0x28, 0x30, 0x99}       // frame OBU with extension (T1, S1)
	rtpTD      = []byte{0x10}                         // temporal delimiter
	rtpPad     = []byte{0x78, 0, 0, 0}                // padding
	rtpTiles   = []byte{0x40, 1, 2}                   // tile list
	rtpSized   = []byte{0x32, 0x03, 0x30, 0x11, 0x22} // inter frame with obu_size
	rtpBadSize = []byte{0x32, 0x05, 0x30, 0x11, 0x22} // obu_size too large
	rtpForbid  = []byte{0xb0, 0x30}                   // forbidden bit
	stillSeq   = append([]byte{0x08}, func() []byte { s := baseSpec; s.still, s.reduced = true, true; return s.payload() }()...)
	stillFrame = []byte{0x18, 0x00, 0x01} // frame header of a reduced still picture
)

// sized returns an RTP-style OBU as stored: size field set and obu_size.
func sized(o []byte) []byte {
	hdr := 1 + int(o[0]>>2&1)
	out := append([]byte{o[0] | 0x02}, o[1:hdr]...)
	out = appendLEB128(out, uint64(len(o)-hdr))
	return append(out, o[hdr:]...)
}

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// elem prefixes an OBU element with its LEB128 length.
func elem(o []byte) []byte { return append(appendLEB128(nil, uint64(len(o))), o...) }

func TestAppendFrame(t *testing.T) {
	tests := []struct {
		name     string
		payloads [][]byte
		want     []byte
		key      bool
		err      error
	}{
		{"W=0 lengths everywhere", [][]byte{cat([]byte{0x08}, elem(rtpSeq), elem(rtpKey))},
			cat(sized(rtpSeq), sized(rtpKey)), true, nil},
		{"W=2 last without length", [][]byte{cat([]byte{0x28}, elem(rtpSeq), rtpKey)},
			cat(sized(rtpSeq), sized(rtpKey)), true, nil},
		{"W=1 inter frame", [][]byte{cat([]byte{0x10}, rtpInter)}, sized(rtpInter), false, nil},
		{"W=3", [][]byte{cat([]byte{0x30}, elem(rtpSeq), elem(rtpKey), rtpInter)},
			cat(sized(rtpSeq), sized(rtpKey), sized(rtpInter)), true, nil},
		{"OBU split over three packets", [][]byte{
			cat([]byte{0x68}, elem(rtpSeq), rtpKey[:2]), // Y, W=2
			cat([]byte{0xd0}, rtpKey[2:3]),              // Z, Y, W=1
			cat([]byte{0x90}, rtpKey[3:]),               // Z, W=1
		}, cat(sized(rtpSeq), sized(rtpKey)), true, nil},
		{"fragment then whole OBUs", [][]byte{
			cat([]byte{0x50}, rtpInter[:1]),                     // Y, W=1
			cat([]byte{0x80}, elem(rtpInter[1:]), elem(rtpExt)), // Z, W=0
		}, cat(sized(rtpInter), sized(rtpExt)), false, nil},
		{"delimiter, padding and tile list dropped", [][]byte{
			cat([]byte{0x00}, elem(rtpTD), elem(rtpSeq), elem(rtpPad), elem(rtpKey), elem(rtpTiles)),
		}, cat(sized(rtpSeq), sized(rtpKey)), true, nil},
		{"extension header kept", [][]byte{cat([]byte{0x10}, rtpExt)}, sized(rtpExt), false, nil},
		{"size field accepted", [][]byte{cat([]byte{0x10}, rtpSized)}, rtpSized, false, nil},
		{"key frame without sequence header", [][]byte{cat([]byte{0x10}, rtpKey)}, sized(rtpKey), false, nil},
		{"hidden key frame", [][]byte{cat([]byte{0x20}, elem(rtpSeq), rtpHidden)},
			cat(sized(rtpSeq), sized(rtpHidden)), false, nil},
		{"show existing frame", [][]byte{cat([]byte{0x20}, elem(rtpSeq), rtpExist)},
			cat(sized(rtpSeq), sized(rtpExist)), false, nil},
		{"first frame decides", [][]byte{cat([]byte{0x30}, elem(rtpSeq), elem(rtpInter), rtpKey)},
			cat(sized(rtpSeq), sized(rtpInter), sized(rtpKey)), false, nil},
		{"reduced still picture", [][]byte{cat([]byte{0x20}, elem(stillSeq), stillFrame)},
			cat(sized(stillSeq), sized(stillFrame)), true, nil},
		{"no payloads", nil, nil, false, ErrNoPayloads},
		{"aggregation header only", [][]byte{{0x10}}, nil, false, ErrBadPayload},
		{"Z on first packet", [][]byte{cat([]byte{0x90}, rtpKey)}, nil, false, ErrNotFrameStart},
		{"Z without fragment", [][]byte{cat([]byte{0x10}, rtpKey), cat([]byte{0x90}, rtpInter)}, nil, false, ErrFragment},
		{"fragment not continued", [][]byte{cat([]byte{0x50}, rtpKey[:2]), cat([]byte{0x10}, rtpInter)}, nil, false, ErrFragment},
		{"ends inside an OBU", [][]byte{cat([]byte{0x50}, rtpKey[:2])}, nil, false, ErrFragment},
		{"element length past end", [][]byte{cat([]byte{0x00}, []byte{0x09}, rtpKey)}, nil, false, ErrBadPayload},
		{"bad element length", [][]byte{cat([]byte{0x00}, []byte{0x80})}, nil, false, ErrBadPayload},
		{"fewer elements than W", [][]byte{cat([]byte{0x30}, elem(rtpSeq), elem(rtpKey))}, nil, false, ErrBadPayload},
		{"empty element", [][]byte{cat([]byte{0x00}, []byte{0x00}, elem(rtpKey))}, nil, false, ErrBadPayload},
		{"forbidden bit", [][]byte{cat([]byte{0x10}, rtpForbid)}, nil, false, ErrBadOBU},
		{"obu_size mismatch", [][]byte{cat([]byte{0x10}, rtpBadSize)}, nil, false, ErrBadOBU},
		{"truncated extension", [][]byte{cat([]byte{0x10}, []byte{0x34})}, nil, false, ErrBadOBU},
		{"only a delimiter", [][]byte{cat([]byte{0x10}, rtpTD)}, nil, false, ErrEmptyTemporalUnit},
		{"bad sequence header", [][]byte{cat([]byte{0x20}, elem([]byte{0x08, 0x00}), rtpKey)}, nil, false, ErrBadSequenceHeader},
		{"empty frame header", [][]byte{cat([]byte{0x10}, []byte{0x30})}, nil, false, ErrBadOBU},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDepacketizer()
			got, info, err := d.AppendFrame([]byte{5}, tt.payloads)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if err != nil {
				if !bytes.Equal(got, []byte{5}) {
					t.Fatal("dst changed on error")
				}
				return
			}
			if !bytes.Equal(got[1:], tt.want) {
				t.Fatalf("got  % x\nwant % x", got[1:], tt.want)
			}
			if info.Keyframe != tt.key || (info.Config != nil) != tt.key {
				t.Fatalf("keyframe %v config %v, want %v", info.Keyframe, info.Config, tt.key)
			}
		})
	}
}

func TestKeyframeConfig(t *testing.T) {
	d := NewDepacketizer()
	_, info, err := d.AppendFrame(nil, [][]byte{cat([]byte{0x20}, elem(rtpSeq), rtpKey)})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := ConfigRecord(rtpSeq)
	if err != nil {
		t.Fatal(err)
	}
	want := mux.VideoConfig{Width: 1280, Height: 720, BitDepth: 8, Record: rec}
	if !info.Config.Equal(&want) {
		t.Fatalf("config %+v, want %+v", *info.Config, want)
	}
	_, again, err := d.AppendFrame(nil, [][]byte{cat([]byte{0x20}, elem(rtpSeq), rtpKey)})
	if err != nil || again.Config != info.Config {
		t.Fatalf("an unchanged sequence header built a new config (%v)", err)
	}
	// A later reduced still picture header changes how frame headers read.
	if _, _, err := d.AppendFrame(nil, [][]byte{cat([]byte{0x10}, stillSeq)}); err != nil {
		t.Fatal(err)
	}
	if _, info, _ := d.AppendFrame(nil, [][]byte{cat([]byte{0x10}, stillFrame)}); info.Keyframe {
		t.Fatal("keyframe without a sequence header in its temporal unit")
	}
}

func TestIsFrameStart(t *testing.T) {
	d := NewDepacketizer()
	for _, tt := range []struct {
		in   []byte
		want bool
	}{{[]byte{0x10, 0x30}, true}, {[]byte{0x90, 0x30}, false}, {nil, false}} {
		if got := d.IsFrameStart(tt.in); got != tt.want {
			t.Errorf("IsFrameStart(% x) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func FuzzDepacketize(f *testing.F) {
	f.Add(cat([]byte{0x68}, elem(rtpSeq), rtpKey[:2]), cat([]byte{0x90}, rtpKey[2:]))
	f.Add(cat([]byte{0x00}, elem(rtpTD), elem(rtpSeq), elem(rtpPad)), cat([]byte{0x10}, rtpExt))
	f.Add(cat([]byte{0x20}, elem(stillSeq), stillFrame), cat([]byte{0x10}, rtpSized))
	codectest.FuzzTwoPackets(f, func() mux.FrameDepacketizer { return NewDepacketizer() },
		func(t *testing.T, a, b, frame []byte, info mux.FrameInfo) {
			if info.Keyframe && (info.Config == nil || len(info.Config.Record) == 0) {
				t.Fatal("keyframe without config")
			}
		})
}

func BenchmarkAppendFrame(b *testing.B) {
	tu := cat(sized(rtpSeq), sized(append(append([]byte{}, rtpKey...), make([]byte, 8000)...)))
	payloads := (&codecs.AV1Payloader{}).Payload(1200, tu)
	d := NewDepacketizer()
	buf := make([]byte, 0, 2*len(tu))
	b.SetBytes(int64(len(tu)))
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, _, err = d.AppendFrame(buf[:0], payloads); err != nil {
			b.Fatal(err)
		}
	}
}
