package nal

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestFmtpValue(t *testing.T) {
	fmtp := "packetization-mode=1; Sprop-Parameter-Sets = Z0LAHg==,aM4=;profile-level-id=42c01e"
	tests := []struct {
		key, want string
		ok        bool
	}{
		{"sprop-parameter-sets", "Z0LAHg==,aM4=", true},
		{"profile-level-id", "42c01e", true},
		{"sprop-vps", "", false},
		{"packetization", "", false},
	}
	for _, tt := range tests {
		if got, ok := FmtpValue(fmtp, tt.key); got != tt.want || ok != tt.ok {
			t.Errorf("FmtpValue(%q) = %q, %v; want %q, %v", tt.key, got, ok, tt.want, tt.ok)
		}
	}
}

func TestDecodeSprop(t *testing.T) {
	tests := []struct {
		name    string
		list    string
		want    [][]byte
		wantErr bool
	}{
		{"padded", "Z0LAHg==,aM4=", [][]byte{{0x67, 0x42, 0xc0, 0x1e}, {0x68, 0xce}}, false},
		{"unpadded and spaced", " Z0LAHg , aM4 ", [][]byte{{0x67, 0x42, 0xc0, 0x1e}, {0x68, 0xce}}, false},
		{"empty entries", ",,Z0LAHg==,", [][]byte{{0x67, 0x42, 0xc0, 0x1e}}, false},
		{"not base64 skipped", "Z0LAHg==,!!!,aM4=", [][]byte{{0x67, 0x42, 0xc0, 0x1e}, {0x68, 0xce}}, true},
		{"too short skipped", "aA==,aM4=", [][]byte{{0x68, 0xce}}, true},
		{"nothing", "", nil, false},
		{"too many", strings.Repeat("aM4=,", maxSpropUnits+1), slices.Repeat([][]byte{{0x68, 0xce}}, maxSpropUnits), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeSprop(tt.list, 1)
			if (err != nil) != tt.wantErr || (err != nil && !errors.Is(err, ErrSprop)) {
				t.Errorf("error %v, want error: %v", err, tt.wantErr)
			}
			if !slices.EqualFunc(got, tt.want, bytes.Equal) {
				t.Errorf("got %x, want %x", got, tt.want)
			}
		})
	}
}

func FuzzDecodeSprop(f *testing.F) {
	for _, s := range []string{"Z0LAHg==,aM4=", "QAEMAf//AWAAAAMAAAMAAAMAAAMAlqwJ", "=,=,", "a:b,c", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, list string) {
		units, err := DecodeSprop(list, 2)
		total := 0
		for _, u := range units {
			if len(u) <= 2 {
				t.Fatalf("unit of %d bytes returned", len(u))
			}
			total += len(u)
		}
		if len(units) > maxSpropUnits || total > maxSpropBytes {
			t.Fatalf("%d units, %d bytes", len(units), total)
		}
		if err != nil && !errors.Is(err, ErrSprop) {
			t.Fatalf("error %v does not wrap ErrSprop", err)
		}
	})
}
