package h264

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/kiroku-sfu/kiroku/mux/codec/internal/codectest"
)

func TestConfigRecordLayout(t *testing.T) {
	baseline := buildSPS(spsFields{profile: 66, level: 31, wMBs: 20, hMapUnits: 15})
	high422 := buildSPS(spsFields{profile: 122, level: 40, chroma: 2, bitDepth: 2, wMBs: 20, hMapUnits: 15})
	pps1 := buildPPS(1, 0)
	join := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	l16 := func(b []byte) []byte { return []byte{byte(len(b) >> 8), byte(len(b))} }
	tests := []struct {
		name     string
		sps, pps [][]byte
		want     []byte
	}{
		{"baseline: no extension", [][]byte{baseline}, [][]byte{testPPS},
			join([]byte{1, 66, 0, 31, 0xff, 0xe1}, l16(baseline), baseline, []byte{1}, l16(testPPS), testPPS)},
		{"high 4:2:2 10-bit: extension", [][]byte{high422}, [][]byte{testPPS, pps1},
			join([]byte{1, 122, 0, 40, 0xff, 0xe1}, l16(high422), high422, []byte{2}, l16(testPPS), testPPS,
				l16(pps1), pps1, []byte{0xfe, 0xfa, 0xfa, 0})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ConfigRecord(tt.sps, tt.pps)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tt.want) {
				t.Fatalf("record %x\nwant   %x", got, tt.want)
			}
		})
	}
}

func TestConfigRecordErrors(t *testing.T) {
	many := make([][]byte, maxRecordSPS+1)
	for i := range many {
		many[i] = testSPS
	}
	tests := []struct {
		name     string
		sps, pps [][]byte
		want     error
	}{
		{"no SPS", nil, [][]byte{testPPS}, errRecordCount},
		{"no PPS", [][]byte{testSPS}, nil, errRecordCount},
		{"32 SPS", many, [][]byte{testPPS}, errRecordCount},
		{"empty PPS", [][]byte{testSPS}, [][]byte{{}}, errRecordLength},
		{"PPS over 65535 bytes", [][]byte{testSPS}, [][]byte{make([]byte, 1<<16)}, errRecordLength},
		{"first SPS unparsable", [][]byte{testPPS}, [][]byte{testPPS}, errSPSNotSPS},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ConfigRecord(tt.sps, tt.pps); !errors.Is(err, tt.want) {
				t.Fatalf("err %v, want %v", err, tt.want)
			}
		})
	}
}

// TestConfigRecordMatchesMuxer builds avcC from the parameter sets of
// streams in several profiles and compares it with the MP4 muxer's.
func TestConfigRecordMatchesMuxer(t *testing.T) {
	tests := [][]string{
		{"-pix_fmt", "yuv420p", "-profile:v", "main"},
		{"-pix_fmt", "yuv422p"},
		{"-pix_fmt", "yuv444p"},
		{"-pix_fmt", "yuv420p10le"},
		{"-pix_fmt", "yuv420p", "-x264-params", "cqm=jvt"},
	}
	for _, opts := range tests {
		t.Run(fmt.Sprint(opts), func(t *testing.T) {
			args := append([]string{"-frames:v", "3", "-c:v", "libx264", "-preset", "veryfast"}, opts...)
			path, stream := codectest.Encode(t, "642x362", "p.h264", args...)
			var sps, pps [][]byte
			for _, n := range codectest.SplitAnnexB(stream) {
				switch n[0] & 0x1f {
				case naluSPS:
					sps = append(sps, n)
				case naluPPS:
					pps = append(pps, n)
				}
			}
			rec, err := ConfigRecord(sps, pps)
			if err != nil {
				t.Fatal(err)
			}
			compareWithMuxer(t, path, rec)
		})
	}
}
