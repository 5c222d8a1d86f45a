package av1

import (
	"bytes"
	"testing"

	"github.com/pion/rtp/codecs"

	"github.com/kiroku-sfu/kiroku/mux"
	"github.com/kiroku-sfu/kiroku/mux/codec/internal/codectest"
)

// normalizeTU rewrites a low-overhead temporal unit the way kiroku stores
// it: temporal delimiters, tile lists and padding dropped, every OBU with a
// minimal obu_size field.
func normalizeTU(t *testing.T, tu []byte) []byte {
	t.Helper()
	var out []byte
	for len(tu) > 0 {
		h := tu[0]
		hdr := 1 + int(h>>2&1)
		if h&0x02 == 0 || len(tu) < hdr {
			t.Fatal("encoder OBU without size field")
		}
		size, n := uint64(0), 0
		for ; ; n++ {
			size |= uint64(tu[hdr+n]&0x7f) << (7 * n)
			if tu[hdr+n]&0x80 == 0 {
				n++
				break
			}
		}
		payload := tu[hdr+n : hdr+n+int(size)]
		if typ := h >> 3 & 0x0f; typ != 2 && typ != 8 && typ != 15 {
			out = append(out, tu[:hdr]...)
			for v := size; ; v >>= 7 {
				if v < 0x80 {
					out = append(out, byte(v))
					break
				}
				out = append(out, byte(v)|0x80)
			}
			out = append(out, payload...)
		}
		tu = tu[hdr+n+int(size):]
	}
	return out
}

// TestEncoderRoundTrip packetizes libaom output with pion's payloader at
// MTU 1200 and checks every temporal unit, keyframe flag and size.
func TestEncoderRoundTrip(t *testing.T) {
	frames, _ := codectest.EncodeIVF(t, "-c:v", "libaom-av1", "-cpu-used", "8", "-g", "30", "-b:v", "400k")
	packetize := func(tu []byte) [][]byte { return (&codecs.AV1Payloader{}).Payload(1200, tu) }
	want := func(tu []byte) []byte { return normalizeTU(t, tu) }
	codectest.RoundTripIVF(t, NewDepacketizer(), frames, packetize, want,
		func(t *testing.T, i int, c *mux.VideoConfig) {
			if c.Width != 320 || c.Height != 240 || c.BitDepth != 8 || len(c.Record) == 0 {
				t.Fatalf("frame %d: config %+v", i, *c)
			}
		})
}

// TestConfigRecordMatchesMP4 compares ConfigRecord with the av1C box ffmpeg
// writes when it copies libaom's stream into MP4, for several pixel formats.
func TestConfigRecordMatchesMP4(t *testing.T) {
	tests := []struct {
		pixFmt   string
		bitDepth uint8
	}{
		{"yuv420p", 8},
		{"yuv420p10le", 10},
		{"yuv444p", 8},
	}
	for _, tt := range tests {
		t.Run(tt.pixFmt, func(t *testing.T) {
			frames, ivf := codectest.EncodeIVF(t, "-frames:v", "2", "-c:v", "libaom-av1", "-cpu-used", "8", "-pix_fmt", tt.pixFmt)
			seq := firstSequenceHeader(t, frames[0].Data)
			got, err := ConfigRecord(seq)
			if err != nil {
				t.Fatal(err)
			}
			if want := codectest.FindBox(t, codectest.RemuxMP4(t, ivf), "av1C"); !bytes.Equal(got, want) {
				t.Fatalf("ConfigRecord\n% x\nffmpeg's av1C\n% x", got, want)
			}
			s, err := ParseSequenceHeader(seq)
			if err != nil || s.Color.BitDepth != tt.bitDepth || s.MaxFrameWidth != 320 || s.MaxFrameHeight != 240 {
				t.Fatalf("sequence header %+v, %v", s, err)
			}
		})
	}
}

// firstSequenceHeader returns the first sequence header OBU of a
// low-overhead temporal unit.
func firstSequenceHeader(t *testing.T, tu []byte) []byte {
	t.Helper()
	for _, o := range splitOBUs(t, normalizeTU(t, tu)) {
		if o[0]>>3&0x0f == obuSequenceHeader {
			return o
		}
	}
	t.Fatal("no sequence header in the first temporal unit")
	return nil
}

// splitOBUs splits a normalized temporal unit into its OBUs.
func splitOBUs(t *testing.T, tu []byte) [][]byte {
	t.Helper()
	var obus [][]byte
	for len(tu) > 0 {
		hdr := 1 + int(tu[0]>>2&1)
		size, n := readLEB128(tu[hdr:])
		if n == 0 {
			t.Fatal("bad obu_size")
		}
		end := hdr + n + int(size)
		obus, tu = append(obus, tu[:end]), tu[end:]
	}
	return obus
}
