package webm

import (
	"bytes"
	"errors"
	"testing"
)

func TestAvccParamSets(t *testing.T) {
	sps := []byte{0x67, 0x42, 0x00, 0x1E}
	pps := []byte{0x68, 0xCE}
	rec := append([]byte{1, 0x42, 0, 0x1E, 0xFF, 0xE1, 0, 4}, sps...)
	rec = append(rec, 1, 0, 2)
	rec = append(rec, pps...)
	want := append(append([]byte{0, 0, 0, 4}, sps...), append([]byte{0, 0, 0, 2}, pps...)...)
	tests := []struct {
		name string
		rec  []byte
		want []byte
	}{
		{"sps and pps", rec, want},
		{"trailing extension bytes", append(bytes.Clone(rec), 0xFC, 0xF8, 0xF8, 0), want},
		{"empty", nil, nil},
		{"version 0", append([]byte{0}, rec[1:]...), nil},
		{"2-byte lengths", append(append([]byte{}, rec[:4]...), append([]byte{0xFD}, rec[5:]...)...), nil},
		{"sps cut", rec[:10], nil},
		{"pps count missing", rec[:12], nil},
		{"zero-length sps", []byte{1, 0x42, 0, 0x1E, 0xFF, 0xE1, 0, 0, 0}, nil},
	}
	for _, tc := range tests {
		got, err := avccParamSets(tc.rec)
		if tc.want == nil {
			if !errors.Is(err, errBadAVCC) {
				t.Errorf("%s: error %v, want errBadAVCC", tc.name, err)
			}
			continue
		}
		if err != nil || !bytes.Equal(got, tc.want) {
			t.Errorf("%s: %x, %v; want %x", tc.name, got, err, tc.want)
		}
	}
}

// FuzzAvccParamSets: avcC records come from the network; they must never
// make the parser panic, and what it returns is well-formed.
func FuzzAvccParamSets(f *testing.F) {
	f.Add([]byte{1, 0x42, 0, 0x1E, 0xFF, 0xE1, 0, 2, 0x67, 0x42, 1, 0, 1, 0x68})
	f.Add([]byte{1, 0x42, 0, 0x1E, 0xFF, 0xFF, 0, 0})
	f.Fuzz(func(t *testing.T, rec []byte) {
		out, err := avccParamSets(rec)
		if err != nil {
			return
		}
		for p := 0; p < len(out); {
			if p+4 > len(out) {
				t.Fatalf("output %x cut in a length", out)
			}
			n := int(out[p])<<24 | int(out[p+1])<<16 | int(out[p+2])<<8 | int(out[p+3])
			if n == 0 || p+4+n > len(out) {
				t.Fatalf("output %x has a bad NAL length at %d", out, p)
			}
			p += 4 + n
		}
	})
}
