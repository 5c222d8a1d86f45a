package h265

import (
	"bytes"
	"encoding/base64"
	"errors"
	"testing"

	"github.com/kiroku-sfu/kiroku/mux/codec/internal/nal"
)

func b64(n []byte) string { return base64.StdEncoding.EncodeToString(n) }

func spropFmtp(vps, sps, pps []byte) string {
	return "profile-id=1;sprop-vps=" + b64(vps) + ";sprop-sps=" + b64(sps) + ";sprop-pps=" + b64(pps)
}

func TestSeed(t *testing.T) {
	otherSPS := buildSPS(spsFields{chroma: 1, width: 320, height: 240})
	tests := []struct {
		name     string
		fmtp     string
		inBand   [][]byte // sent before the keyframe
		wantSPS  []byte   // nil: the keyframe must fail for missing parameter sets
		wantErr  bool
		wantSize [2]int
	}{
		{name: "vps, sps, pps", fmtp: spropFmtp(testVPS, testSPS, testPPS), wantSPS: testSPS, wantSize: [2]int{642, 362}},
		{name: "in-band wins", fmtp: spropFmtp(testVPS, otherSPS, testPPS), inBand: [][]byte{testSPS},
			wantSPS: testSPS, wantSize: [2]int{642, 362}},
		{name: "sprop only for the size", fmtp: spropFmtp(testVPS, otherSPS, testPPS), wantSPS: otherSPS, wantSize: [2]int{320, 240}},
		{name: "no vps", fmtp: "sprop-sps=" + b64(testSPS) + ";sprop-pps=" + b64(testPPS)},
		{name: "pps in sprop-sps", fmtp: "sprop-vps=" + b64(testVPS) + ";sprop-sps=" + b64(testPPS) + ";sprop-pps=" + b64(testPPS),
			wantErr: true},
		{name: "garbage skipped", fmtp: "sprop-vps=@@," + b64(testVPS) + ";sprop-sps=" + b64(testSPS) + ";sprop-pps=" + b64(testPPS),
			wantSPS: testSPS, wantErr: true, wantSize: [2]int{642, 362}},
		{name: "forbidden bit", fmtp: "sprop-vps=" + b64(append([]byte{0x80 | testVPS[0]}, testVPS[1:]...)) +
			";sprop-sps=" + b64(testSPS) + ";sprop-pps=" + b64(testPPS), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDepacketizer()
			err := d.Seed(tt.fmtp)
			if (err != nil) != tt.wantErr || (err != nil && !errors.Is(err, nal.ErrSprop)) {
				t.Fatalf("Seed: %v, want error %v", err, tt.wantErr)
			}
			_, info, err := d.AppendFrame(nil, append(tt.inBand, testIDR))
			if tt.wantSPS == nil {
				if !errors.Is(err, ErrMissingParameterSets) {
					t.Fatalf("keyframe: %v, want ErrMissingParameterSets", err)
				}
				return
			}
			if err != nil || !info.Keyframe || info.Config == nil {
				t.Fatalf("keyframe: %+v, %v", info, err)
			}
			rec, _ := ConfigRecord([][]byte{testVPS}, [][]byte{tt.wantSPS}, [][]byte{testPPS})
			if !bytes.Equal(info.Config.Record, rec) {
				t.Errorf("hvcC %x, want one with SPS %x", info.Config.Record, tt.wantSPS)
			}
			if got := [2]int{info.Config.Width, info.Config.Height}; got != tt.wantSize {
				t.Errorf("size %v, want %v", got, tt.wantSize)
			}
		})
	}
}

// FuzzSeed checks that no fmtp makes Seed or the first keyframe after it
// panic, and that a keyframe that succeeds has a record.
func FuzzSeed(f *testing.F) {
	f.Add(spropFmtp(testVPS, testSPS, testPPS))
	f.Add("sprop-vps=QAE=;sprop-sps=,,;sprop-pps=RAHA")
	f.Fuzz(func(t *testing.T, fmtp string) {
		d := NewDepacketizer()
		_ = d.Seed(fmtp)
		_, info, err := d.AppendFrame(nil, [][]byte{testIDR})
		if err == nil && (info.Config == nil || len(info.Config.Record) == 0) {
			t.Fatalf("keyframe without a record: %+v", info)
		}
	})
}
