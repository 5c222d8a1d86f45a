package h265

import (
	"bytes"
	"errors"
	"testing"

	"github.com/kiroku-sfu/kiroku/mux/codec/internal/codectest"
)

func TestConfigRecordLayout(t *testing.T) {
	sps := buildSPS(spsFields{chroma: 2, bitDepth: 2, subLayers: 3, width: 320, height: 240})
	l16 := func(b []byte) []byte { return []byte{byte(len(b) >> 8), byte(len(b))} }
	want := bytes.Join([][]byte{
		{1, 0x01, 0x60, 0, 0, 0, 0x90, 0, 0, 0, 0, 0, 93},
		{0xf0, 0, 0xfc, 0xfe, 0xfa, 0xfa, 0, 0, 3<<3 | 1<<2 | 3, 3},
		{0x80 | naluVPS, 0, 1}, l16(testVPS), testVPS,
		{0x80 | naluSPS, 0, 1}, l16(sps), sps,
		{0x80 | naluPPS, 0, 1}, l16(testPPS), testPPS,
	}, nil)
	got, err := ConfigRecord([][]byte{testVPS}, [][]byte{sps}, [][]byte{testPPS})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("record %x\nwant   %x", got, want)
	}
}

func TestConfigRecordErrors(t *testing.T) {
	one := func(b []byte) [][]byte { return [][]byte{b} }
	tests := []struct {
		name          string
		vps, sps, pps [][]byte
		want          error
	}{
		{"no VPS", nil, one(testSPS), one(testPPS), errRecordCount},
		{"no SPS", one(testVPS), nil, one(testPPS), errRecordCount},
		{"no PPS", one(testVPS), one(testSPS), nil, errRecordCount},
		{"65 PPS", one(testVPS), one(testSPS), make([][]byte, 65), errRecordCount},
		{"SPS in the VPS array", one(testSPS), one(testSPS), one(testPPS), errRecordType},
		{"one-byte PPS", one(testVPS), one(testSPS), one([]byte{0x44}), errRecordLength},
		{"SPS unparsable", one(testVPS), one(header(naluSPS)), one(testPPS), errSPSNotSPS},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ConfigRecord(tt.vps, tt.sps, tt.pps); !errors.Is(err, tt.want) {
				t.Fatalf("err %v, want %v", err, tt.want)
			}
		})
	}
}

// TestConfigRecordMatchesMuxer builds hvcC from the parameter sets of
// streams in several profiles and compares it with the MP4 muxer's.
func TestConfigRecordMatchesMuxer(t *testing.T) {
	for _, pixFmt := range []string{"yuv420p10le", "yuv422p", "yuv444p", "gray"} {
		t.Run(pixFmt, func(t *testing.T) {
			path, stream := codectest.Encode(t, "642x362", "p.hevc", "-frames:v", "3", "-c:v", "libx265",
				"-preset", "veryfast", "-pix_fmt", pixFmt, "-x265-params", "log-level=error")
			var sets [3][][]byte
			for _, n := range codectest.SplitAnnexB(stream) {
				if t := nalType(n); t >= naluVPS && t <= naluPPS {
					sets[t-naluVPS] = append(sets[t-naluVPS], n)
				}
			}
			rec, err := ConfigRecord(sets[0], sets[1], sets[2])
			if err != nil {
				t.Fatal(err)
			}
			compareWithMuxer(t, path, rec)
		})
	}
}
