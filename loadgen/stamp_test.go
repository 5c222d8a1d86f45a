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
		{"max", Stamp{Publisher: 1<<32 - 1, Seq: 1<<64 - 1, Sent: time.Unix(0, 1<<63-1)}, StampBytes + 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := make([]byte, tc.size)
			PutStamp(p, tc.s)
			got, err := ParseStamp(p)
			if err != nil {
				t.Fatal(err)
			}
			if got.Publisher != tc.s.Publisher || got.Seq != tc.s.Seq || !got.Sent.Equal(tc.s.Sent) {
				t.Fatalf("got %+v, want %+v", got, tc.s)
			}
		})
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
	f.Fuzz(func(t *testing.T, payload []byte) {
		s, err := ParseStamp(payload)
		if err != nil {
			return
		}
		again := make([]byte, len(payload))
		PutStamp(again, s)
		if !bytes.Equal(again[:StampBytes], payload[:StampBytes]) {
			t.Fatalf("stamp %+v does not round-trip", s)
		}
	})
}
