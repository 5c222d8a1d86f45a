package h264

import (
	"testing"

	"github.com/kiroku-sfu/kiroku/mux"
	"github.com/kiroku-sfu/kiroku/mux/codec/internal/bits"
	"github.com/kiroku-sfu/kiroku/mux/codec/internal/codectest"
)

var (
	testSPS     = buildSPS(spsFields{profile: 100, level: 31, chroma: 1, wMBs: 41, hMapUnits: 23, crop: [4]uint32{0, 7, 0, 3}})
	testPPS     = buildPPS(0, 0)
	testIDR     = buildSlice(naluIDR, 0, 7, 0, 40)
	testIDR2    = buildSlice(naluIDR, 100, 7, 0, 30) // second slice of the same picture
	testP       = buildSlice(naluSlice, 0, 5, 0, 20)
	testB       = buildSlice(naluSlice, 0, 6, 0, 20)
	testSEI     = []byte{0x06, 0x05, 0x01, 0xaa, 0x80}
	testAUD     = []byte{0x09, 0xf0}
	testFiller  = []byte{0x0c, 0xff, 0xff, 0x80}
	reorderSPS  = buildSPS(spsFields{profile: 100, chroma: 1, wMBs: 20, hMapUnits: 15, vui: true, reorder: u32(1)})
	noReordSPS  = buildSPS(spsFields{profile: 100, chroma: 1, wMBs: 20, hMapUnits: 15, vui: true, reorder: u32(0)})
	paramsFrame = [][]byte{stapA(testSPS, testPPS), testIDR}
)

func cat(parts ...[][]byte) [][]byte {
	var out [][]byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func TestAppendFrame(t *testing.T) {
	tests := []codectest.FrameCase{
		{Name: "STAP-A params and single IDR", Payloads: paramsFrame, Want: avcc(testIDR), Keyframe: true},
		{Name: "params as single NAL packets, AUD and filler dropped",
			Payloads: [][]byte{testAUD, testSPS, testPPS, testSEI, testIDR, testFiller},
			Want:     avcc(testSEI, testIDR), Keyframe: true},
		{Name: "FU-A IDR in three fragments", Payloads: cat([][]byte{stapA(testSPS, testPPS)}, fuA(testIDR, 15)),
			Want: avcc(testIDR), Keyframe: true},
		{Name: "two FU-A slices", Payloads: cat([][]byte{stapA(testSPS, testPPS)}, fuA(testIDR, 10), fuA(testIDR2, 10)),
			Want: avcc(testIDR, testIDR2), Keyframe: true},
		{Name: "SPS and PPS fragmented", Payloads: cat(fuA(testSPS, 3), fuA(testPPS, 2), [][]byte{testIDR}),
			Want: avcc(testIDR), Keyframe: true},
		{Name: "FU-A with start and end bits together", Payloads: [][]byte{stapA(testSPS, testPPS),
			append([]byte{pktFUA | 0x60, fuStartBit | fuEndBit | naluIDR}, testIDR[1:]...)},
			Want: avcc(testIDR), Keyframe: true},
		{Name: "STAP-A with SEI and slice", Payloads: [][]byte{stapA(testSPS, testPPS, testSEI, testIDR)},
			Want: avcc(testSEI, testIDR), Keyframe: true},
		{Name: "P frame after keyframe", Before: [][][]byte{paramsFrame}, Payloads: fuA(testP, 8), Want: avcc(testP)},
		{Name: "P frame with unknown PPS", Payloads: [][]byte{testP}, Want: avcc(testP)},
		{Name: "P frame with an SPS that forbids reordering", Before: [][][]byte{{noReordSPS, testPPS, testIDR}},
			Payloads: [][]byte{testP}, Want: avcc(testP)},

		{Name: "keyframe before parameter sets", Payloads: [][]byte{testIDR}, WantErr: ErrMissingParameterSets},
		{Name: "keyframe with PPS but no SPS", Payloads: [][]byte{testPPS, testIDR}, WantErr: ErrMissingParameterSets},
		{Name: "B slice", Before: [][][]byte{paramsFrame}, Payloads: [][]byte{testB}, WantErr: mux.ErrReordering},
		{Name: "SPS with reordering on keyframe", Payloads: [][]byte{reorderSPS, testPPS, testIDR}, WantErr: mux.ErrReordering},
		{Name: "SPS with reordering on P frame", Before: [][][]byte{paramsFrame},
			Payloads: [][]byte{reorderSPS, testPPS, testP}, WantErr: mux.ErrReordering},
		{Name: "STAP-B", Payloads: [][]byte{{pktSTAPB, 0, 0, 0, 1, 0x65}}, WantErr: mux.ErrUnsupported},
		{Name: "MTAP16", Payloads: [][]byte{{pktMTAP16, 0, 0}}, WantErr: mux.ErrUnsupported},
		{Name: "MTAP24", Payloads: [][]byte{{pktMTAP24, 0, 0}}, WantErr: mux.ErrUnsupported},
		{Name: "FU-B", Payloads: [][]byte{{pktFUB, 0x85, 0, 0}}, WantErr: mux.ErrUnsupported},
		{Name: "no payloads", Payloads: nil, WantErr: errNoSlice},
		{Name: "only parameter sets", Payloads: [][]byte{stapA(testSPS, testPPS)}, WantErr: errNoSlice},
		{Name: "empty payload", Payloads: [][]byte{{}}, WantErr: errEmpty},
		{Name: "forbidden bit on packet", Payloads: [][]byte{append([]byte{0x80 | testIDR[0]}, testIDR[1:]...)}, WantErr: errForbidden},
		{Name: "forbidden bit inside STAP-A", Payloads: [][]byte{stapA(testSPS, []byte{0xe8, 0x80})}, WantErr: errForbidden},
		{Name: "forbidden bit on FU indicator", Payloads: [][]byte{{0x80 | pktFUA, 0xc5, 1}}, WantErr: errForbidden},
		{Name: "NAL type 0", Payloads: [][]byte{{0x00, 0x80}}, WantErr: errNALType},
		{Name: "NAL type 30", Payloads: [][]byte{{0x1e, 0x80}}, WantErr: errNALType},
		{Name: "STAP-A inside STAP-A", Payloads: [][]byte{stapA([]byte{0x18, 0, 1, 0x65})}, WantErr: errNALType},
		{Name: "FU-A of type 24", Payloads: [][]byte{{pktFUA, 0xc0 | 24, 1}}, WantErr: errNALType},
		{Name: "truncated STAP-A length", Payloads: [][]byte{append(stapA(testSPS), 0)}, WantErr: errTruncated},
		{Name: "truncated STAP-A unit", Payloads: [][]byte{stapA(testSPS)[:10]}, WantErr: errTruncated},
		{Name: "empty STAP-A", Payloads: [][]byte{{pktSTAPA}}, WantErr: errTruncated},
		{Name: "zero-length NAL in STAP-A", Payloads: [][]byte{{pktSTAPA, 0, 0, 0, 2, 0x65, 0x88}}, WantErr: errEmpty},
		{Name: "FU-A header missing", Payloads: [][]byte{{pktFUA}}, WantErr: errTruncated},
		{Name: "FU-A without start", Payloads: fuA(testIDR, 15)[1:], WantErr: errFUNoStart},
		{Name: "FU-A without end", Payloads: fuA(testIDR, 15)[:2], WantErr: errFUInterrupted},
		{Name: "FU-A restarted", Payloads: cat(fuA(testIDR, 15)[:1], fuA(testIDR, 15)), WantErr: errFUInterrupted},
		{Name: "FU-A interrupted by single NAL", Payloads: cat(fuA(testIDR, 15)[:1], [][]byte{testSEI}), WantErr: errFUInterrupted},
		{Name: "FU-A type changes", Payloads: cat(fuA(testIDR, 15)[:1], fuA(testP, 15)[1:]), WantErr: errFUNoStart},
		{Name: "slice type out of range", Payloads: [][]byte{buildSlice(naluSlice, 0, 10, 0, 4)}, WantErr: errSliceHeader},
		{Name: "truncated slice header", Payloads: [][]byte{{0x65, 0x00}}, WantErr: bits.ErrTruncated},
		{Name: "bad SPS", Payloads: [][]byte{{0x67, 0x42}, testIDR}, WantErr: errSPSNotSPS},
		{Name: "PPS over 65535 bytes", Payloads: cat(fuA(append(buildPPS(0, 0), make([]byte, 1<<16)...), 1000), [][]byte{testIDR}),
			WantErr: errRecordLength},
		{Name: "PPS id out of range", Payloads: [][]byte{buildPPS(256, 0), testIDR}, WantErr: errSPSValue},
		{Name: "PPS names SPS id out of range", Payloads: [][]byte{buildPPS(0, 32), testIDR}, WantErr: errSPSValue},
	}
	codectest.RunFrameCases(t, func() mux.FrameDepacketizer { return NewDepacketizer() }, tests)
}

func TestAppendFrameConfig(t *testing.T) {
	d := NewDepacketizer()
	_, info, err := d.AppendFrame(nil, paramsFrame)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := ConfigRecord([][]byte{testSPS}, [][]byte{testPPS})
	if err != nil {
		t.Fatal(err)
	}
	want := mux.VideoConfig{Width: 642, Height: 362, Record: rec}
	if !info.Config.Equal(&want) {
		t.Fatalf("config %+v, want %+v", info.Config, want)
	}
	// Repeated, unchanged parameter sets keep the same configuration.
	_, again, err := d.AppendFrame(nil, paramsFrame)
	if err != nil || again.Config != info.Config {
		t.Fatalf("repeated keyframe: config %p (err %v), want the shared %p", again.Config, err, info.Config)
	}
	// A new SPS (new size) under the same id replaces the old one.
	sps2 := buildSPS(spsFields{profile: 66, level: 30, wMBs: 22, hMapUnits: 18})
	_, changed, err := d.AppendFrame(nil, [][]byte{stapA(sps2, testPPS), testIDR})
	if err != nil {
		t.Fatal(err)
	}
	rec2, _ := ConfigRecord([][]byte{sps2}, [][]byte{testPPS})
	want2 := mux.VideoConfig{Width: 352, Height: 288, Record: rec2}
	if !changed.Config.Equal(&want2) {
		t.Fatalf("config after SPS change %+v, want %+v", changed.Config, want2)
	}
	if info.Config.Width != 642 {
		t.Fatal("an earlier frame's config was modified")
	}
}

func TestIsFrameStart(t *testing.T) {
	tests := []struct {
		payload []byte
		want    bool
	}{
		{nil, false},
		{testIDR, true},
		{testP, true},
		{stapA(testSPS, testPPS), true},
		{fuA(testIDR, 15)[0], true},
		{fuA(testIDR, 15)[1], false},
		{[]byte{pktFUA}, false},
		{[]byte{pktFUB, 0x85}, false},
		{[]byte{0x00}, false},
	}
	d := NewDepacketizer()
	for i, tt := range tests {
		if got := d.IsFrameStart(tt.payload); got != tt.want {
			t.Errorf("case %d (%x): got %v, want %v", i, tt.payload, got, tt.want)
		}
	}
}
