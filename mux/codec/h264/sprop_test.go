package h264

import (
	"bytes"
	"encoding/base64"
	"errors"
	"testing"

	"github.com/kiroku-sfu/kiroku/mux/codec/internal/nal"
)

func b64(n []byte) string { return base64.StdEncoding.EncodeToString(n) }

// otherSPS has id 0 like testSPS but another size.
var otherSPS = buildSPS(spsFields{profile: 66, level: 30, wMBs: 20, hMapUnits: 15})

func TestSeed(t *testing.T) {
	tests := []struct {
		name      string
		fmtp      string
		wantSPS   []byte // nil: the keyframe must fail for missing parameter sets
		wantErr   bool
		inBandSPS []byte // sent in-band before the keyframe
	}{
		{name: "sprop-parameter-sets", fmtp: "packetization-mode=1;sprop-parameter-sets=" + b64(testSPS) + "," + b64(testPPS),
			wantSPS: testSPS},
		{name: "unpadded, other case", fmtp: "SPROP-PARAMETER-SETS=" + b64(testSPS)[:len(b64(testSPS))-1] + "," + b64(testPPS),
			wantSPS: testSPS},
		{name: "level sets with profile-level-id", fmtp: "sprop-level-parameter-sets=42e01e:" + b64(otherSPS) + "," + b64(testPPS),
			wantSPS: otherSPS},
		{name: "level sets lose to sprop-parameter-sets",
			fmtp:    "sprop-level-parameter-sets=42e01e:" + b64(otherSPS) + ";sprop-parameter-sets=" + b64(testSPS) + "," + b64(testPPS),
			wantSPS: testSPS},
		{name: "garbage skipped", fmtp: "sprop-parameter-sets=%%%," + b64(testSEI) + "," + b64(testSPS) + "," + b64(testPPS),
			wantSPS: testSPS, wantErr: true},
		{name: "malformed SPS", fmtp: "sprop-parameter-sets=Z2Q=," + b64(testPPS), wantErr: true},
		{name: "no sprop", fmtp: "packetization-mode=1"},
		{name: "in-band wins", fmtp: "sprop-parameter-sets=" + b64(otherSPS) + "," + b64(testPPS),
			wantSPS: testSPS, inBandSPS: testSPS},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDepacketizer()
			err := d.Seed(tt.fmtp)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Seed: %v, want error %v", err, tt.wantErr)
			}
			if err != nil && !errors.Is(err, nal.ErrSprop) && tt.name != "malformed SPS" {
				t.Errorf("error %v does not wrap nal.ErrSprop", err)
			}
			payloads := [][]byte{testIDR}
			if tt.inBandSPS != nil {
				payloads = [][]byte{tt.inBandSPS, testIDR}
			}
			_, info, err := d.AppendFrame(nil, payloads)
			if tt.wantSPS == nil {
				if !errors.Is(err, ErrMissingParameterSets) {
					t.Fatalf("keyframe: %v, want ErrMissingParameterSets", err)
				}
				return
			}
			if err != nil || !info.Keyframe || info.Config == nil {
				t.Fatalf("keyframe: %+v, %v", info, err)
			}
			rec, _ := ConfigRecord([][]byte{tt.wantSPS}, [][]byte{testPPS})
			if !bytes.Equal(info.Config.Record, rec) {
				t.Errorf("avcC %x, want one with SPS %x", info.Config.Record, tt.wantSPS)
			}
		})
	}
}

func TestLevelSetLists(t *testing.T) {
	tests := []struct{ in, want string }{
		{"42e01f:Z0I=,aM4=:64001f:Z2Q=", "Z0I=,aM4=|Z2Q="},
		{"Z0KAKJWg", "Z0KAKJWg"},
		{"42e01f", "42e01f"},
	}
	for _, tt := range tests {
		var got string
		for i, l := range levelSetLists(tt.in) {
			if i > 0 {
				got += "|"
			}
			got += l
		}
		if got != tt.want {
			t.Errorf("levelSetLists(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzSeed checks that no fmtp makes Seed or the first keyframe after it
// panic, and that whatever was seeded builds a record the parser accepts.
func FuzzSeed(f *testing.F) {
	f.Add("sprop-parameter-sets=" + b64(testSPS) + "," + b64(testPPS))
	f.Add("sprop-level-parameter-sets=42e01e:" + b64(otherSPS) + "," + b64(testPPS) + ":640033:" + b64(testSPS))
	f.Add("sprop-parameter-sets=Z2Q=,,=,aM4")
	f.Fuzz(func(t *testing.T, fmtp string) {
		d := NewDepacketizer()
		_ = d.Seed(fmtp)
		_, info, err := d.AppendFrame(nil, [][]byte{testIDR})
		if err == nil && (info.Config == nil || len(info.Config.Record) == 0) {
			t.Fatalf("keyframe without a record: %+v", info)
		}
	})
}
