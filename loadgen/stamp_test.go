package loadgen

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

func TestStampRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    Stamp
		size int
	}{
		{"zero", Stamp{Sent: time.Unix(0, 0)}, StampBytes},
		{"typical", Stamp{Publisher: 3, Seq: 12345, Sent: time.Unix(1_800_000_000, 123456789)}, 1200},
		{"max", Stamp{Publisher: 1<<32 - 1, Layer: 255, Seq: 1<<64 - 1, Sent: time.Unix(0, 1<<63-1)}, StampBytes + 1},
		{"layer", Stamp{Publisher: 1, Layer: 2, Seq: 7, Sent: time.Unix(9, 0)}, StampBytes},
		{"keyframe r0", Stamp{Publisher: 2, Seq: 8, Sent: time.Unix(9, 1), Keyframe: true}, KeyframeStampBytes},
		{"keyframe r2", Stamp{Publisher: 2, Layer: 2, Seq: 9, Sent: time.Unix(9, 2), Keyframe: true}, 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := make([]byte, tc.size)
			put := PutStamp
			if tc.s.Keyframe {
				put = PutKeyframeStamp
			}
			put(p, tc.s)
			got, err := ParseStamp(p)
			if err != nil {
				t.Fatal(err)
			}
			if got.Publisher != tc.s.Publisher || got.Layer != tc.s.Layer || got.Seq != tc.s.Seq ||
				!got.Sent.Equal(tc.s.Sent) || got.Keyframe != tc.s.Keyframe {
				t.Fatalf("got %+v, want %+v", got, tc.s)
			}
		})
	}
}

// TestKeyframeStampIsVP8Keyframe checks the bytes a VP8 reader looks at:
// the descriptor starts partition 0, the frame tag says key frame, shown,
// version 0, the start code and the layer's size follow; a plain stamp's
// frame tag says interframe.
func TestKeyframeStampIsVP8Keyframe(t *testing.T) {
	for _, tc := range []struct {
		layer         uint8
		width, height int
	}{{0, 320, 180}, {1, 640, 360}, {2, 1280, 720}} {
		p := make([]byte, 100)
		PutKeyframeStamp(p, Stamp{Layer: tc.layer})
		tag := int(p[1]) | int(p[2])<<8 | int(p[3])<<16
		if p[0] != 0x10 || tag&1 != 0 || (tag>>1)&7 != 0 || tag&0x10 == 0 || tag>>5 != keyframePartitionBytes {
			t.Errorf("layer %d: descriptor %#x frame tag %#x, want a shown version-0 keyframe", tc.layer, p[0], tag)
		}
		w, h := int(p[7])|int(p[8])<<8, int(p[9])|int(p[10])<<8
		if !bytes.Equal(p[4:7], []byte{0x9d, 0x01, 0x2a}) || w != tc.width || h != tc.height {
			t.Errorf("layer %d: start code % x size %dx%d, want 9d 01 2a %dx%d", tc.layer, p[4:7], w, h, tc.width, tc.height)
		}
		PutStamp(p, Stamp{Layer: tc.layer})
		if p[0] != 0x10 || p[1]&1 != 1 {
			t.Errorf("layer %d: plain stamp starts % x, want an interframe", tc.layer, p[:2])
		}
	}
}

func TestParseStampRejects(t *testing.T) {
	good := make([]byte, StampBytes)
	PutStamp(good, Stamp{Seq: 1, Sent: time.Unix(1, 0)})
	for _, tc := range []struct {
		name    string
		payload []byte
	}{
		{"empty", nil},
		{"short", good[:StampBytes-1]},
		{"other descriptor", append([]byte{0x90}, good[1:]...)},
		{"bad magic", append(append([]byte{}, good[:2]...), append([]byte("X"), good[3:]...)...)},
		{"keyframe header, other size", func() []byte {
			p := make([]byte, KeyframeStampBytes)
			PutKeyframeStamp(p, Stamp{Layer: 1})
			p[7]++
			return p
		}()},
		{"keyframe short", func() []byte {
			p := make([]byte, KeyframeStampBytes)
			PutKeyframeStamp(p, Stamp{Layer: 1})
			return p[:KeyframeStampBytes-1]
		}()},
		{"real vp8", []byte{0x10, 0x00, 0x9d, 0x01, 0x2a, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseStamp(tc.payload); !errors.Is(err, ErrNoStamp) {
				t.Fatalf("err = %v, want ErrNoStamp", err)
			}
		})
	}
}

func FuzzParseStamp(f *testing.F) {
	good := make([]byte, StampBytes+8)
	PutStamp(good, Stamp{Publisher: 7, Seq: 99, Sent: time.Unix(5, 6)})
	f.Add(good)
	f.Add([]byte{})
	f.Add([]byte{vp8Descriptor, 'K', 'L', 'G', '1'})
	key := make([]byte, KeyframeStampBytes)
	PutKeyframeStamp(key, Stamp{Layer: 1, Seq: 3, Sent: time.Unix(7, 8)})
	f.Add(key)
	f.Fuzz(func(t *testing.T, payload []byte) {
		s, err := ParseStamp(payload)
		if err != nil {
			return
		}
		again := make([]byte, len(payload))
		n := StampBytes
		if s.Keyframe {
			n = KeyframeStampBytes
			PutKeyframeStamp(again, s)
		} else {
			PutStamp(again, s)
		}
		if !bytes.Equal(again[:n], payload[:n]) {
			t.Fatalf("stamp %+v does not round-trip", s)
		}
	})
}
