package h265

import (
	"testing"

	"github.com/kiroku-sfu/kiroku/mux"
	"github.com/kiroku-sfu/kiroku/mux/codec/internal/bits"
	"github.com/kiroku-sfu/kiroku/mux/codec/internal/codectest"
)

const (
	typeTrailR = 1
	typeIDR    = 19
	typeCRA    = 21
	typeSEI    = 39
)

var (
	testVPS     = buildVPS(0)
	testSPS     = buildSPS(spsFields{chroma: 1, width: 648, height: 368, window: [4]uint32{0, 3, 0, 3}})
	testPPS     = buildPPS(0, 0)
	testIDR     = buildSlice(typeIDR, 0, 40)
	testCRA     = buildSlice(typeCRA, 0, 40)
	testTrail   = buildSlice(typeTrailR, 0, 20)
	testSEI     = append(header(typeSEI), 0x05, 0x01, 0xaa, 0x80)
	testAUD     = append(header(naluAUD), 0x50)
	reorderSPS  = buildSPS(spsFields{chroma: 1, width: 320, height: 240, reorder: []uint32{1}})
	paramsFrame = [][]byte{ap(testVPS, testSPS, testPPS), testIDR}
)

func TestAppendFrame(t *testing.T) {
	tests := []codectest.FrameCase{
		{Name: "AP params and single IDR", Payloads: paramsFrame, Want: avcc(testIDR), Keyframe: true},
		{Name: "single NAL packets, AUD dropped, SEI kept",
			Payloads: [][]byte{testAUD, testVPS, testSPS, testPPS, testSEI, testCRA},
			Want:     avcc(testSEI, testCRA), Keyframe: true},
		{Name: "FU IDR in three fragments", Payloads: cat([][]byte{ap(testVPS, testSPS, testPPS)}, fu(testIDR, 15)),
			Want: avcc(testIDR), Keyframe: true},
		{Name: "parameter sets fragmented", Payloads: cat(fu(testVPS, 2), fu(testSPS, 7), fu(testPPS, 1), [][]byte{testIDR}),
			Want: avcc(testIDR), Keyframe: true},
		{Name: "AP with SEI and slice", Payloads: [][]byte{ap(testVPS, testSPS, testPPS, testSEI, testIDR)},
			Want: avcc(testSEI, testIDR), Keyframe: true},
		{Name: "FU with start and end bits together", Payloads: [][]byte{ap(testVPS, testSPS, testPPS),
			append([]byte{pktFU << 1, 1, fuStartBit | fuEndBit | typeIDR}, testIDR[2:]...)},
			Want: avcc(testIDR), Keyframe: true},
		{Name: "trailing picture after keyframe", Before: [][][]byte{paramsFrame}, Payloads: fu(testTrail, 9), Want: avcc(testTrail)},
		{Name: "enhancement-layer parameter sets dropped", Payloads: [][]byte{paramsFrame[0],
			append([]byte{testSPS[0] | 1, testSPS[1]}, 0xff), testIDR}, Want: avcc(testIDR), Keyframe: true},
		{Name: "trailing picture with unknown PPS", Payloads: [][]byte{testTrail}, Want: avcc(testTrail)},

		{Name: "keyframe before parameter sets", Payloads: [][]byte{testIDR}, WantErr: ErrMissingParameterSets},
		{Name: "keyframe without VPS", Payloads: [][]byte{testSPS, testPPS, testIDR}, WantErr: ErrMissingParameterSets},
		{Name: "SPS with reordering on keyframe", Payloads: [][]byte{testVPS, reorderSPS, testPPS, testIDR}, WantErr: mux.ErrReordering},
		{Name: "SPS with reordering on trailing picture", Before: [][][]byte{paramsFrame},
			Payloads: [][]byte{reorderSPS, testPPS, testTrail}, WantErr: mux.ErrReordering},
		{Name: "PACI", Payloads: [][]byte{{pktPACI << 1, 1, 0, 0, 0x26, 1}}, WantErr: mux.ErrUnsupported},
		{Name: "no payloads", Payloads: nil, WantErr: errNoSlice},
		{Name: "only parameter sets", Payloads: [][]byte{ap(testVPS, testSPS, testPPS)}, WantErr: errNoSlice},
		{Name: "empty payload", Payloads: [][]byte{{}}, WantErr: errTruncated},
		{Name: "one-byte payload", Payloads: [][]byte{{0x26}}, WantErr: errTruncated},
		{Name: "forbidden bit on packet", Payloads: [][]byte{append([]byte{0x80 | testIDR[0]}, testIDR[1:]...)}, WantErr: errForbidden},
		{Name: "forbidden bit inside AP", Payloads: [][]byte{ap(testVPS, []byte{0x80 | typeSEI<<1, 1, 0x80})}, WantErr: errForbidden},
		{Name: "forbidden bit on FU", Payloads: [][]byte{{0x80 | pktFU<<1, 1, 0xc0 | typeIDR, 1}}, WantErr: errForbidden},
		{Name: "temporal id 0", Payloads: [][]byte{{typeIDR << 1, 0, 0x80}}, WantErr: errTemporalID},
		{Name: "packet type 51", Payloads: [][]byte{{51 << 1, 1, 0}}, WantErr: errNALType},
		{Name: "AP inside AP", Payloads: [][]byte{ap(ap(testSEI))}, WantErr: errNALType},
		{Name: "FU of type 48", Payloads: [][]byte{{pktFU << 1, 1, 0xc0 | pktAP, 1}}, WantErr: errNALType},
		{Name: "truncated AP length", Payloads: [][]byte{append(ap(testSEI), 0)}, WantErr: errTruncated},
		{Name: "truncated AP unit", Payloads: [][]byte{ap(testSPS)[:10]}, WantErr: errTruncated},
		{Name: "empty AP", Payloads: [][]byte{header(pktAP)}, WantErr: errTruncated},
		{Name: "zero-length NAL in AP", Payloads: [][]byte{{pktAP << 1, 1, 0, 0, 0, 2, 0x26, 1}}, WantErr: errEmpty},
		{Name: "one-byte NAL in AP", Payloads: [][]byte{{pktAP << 1, 1, 0, 1, 0x26}}, WantErr: errTruncated},
		{Name: "FU header missing", Payloads: [][]byte{header(pktFU)}, WantErr: errTruncated},
		{Name: "FU without start", Payloads: fu(testIDR, 15)[1:], WantErr: errFUNoStart},
		{Name: "FU without end", Payloads: fu(testIDR, 15)[:2], WantErr: errFUInterrupted},
		{Name: "FU restarted", Payloads: cat(fu(testIDR, 15)[:1], fu(testIDR, 15)), WantErr: errFUInterrupted},
		{Name: "FU interrupted by single NAL", Payloads: cat(fu(testIDR, 15)[:1], [][]byte{testSEI}), WantErr: errFUInterrupted},
		{Name: "FU type changes", Payloads: cat(fu(testIDR, 15)[:1], fu(testTrail, 15)[1:]), WantErr: errFUNoStart},
		{Name: "slice PPS id out of range", Payloads: [][]byte{buildSlice(typeTrailR, 64, 2)}, WantErr: errSPSValue},
		{Name: "truncated slice header", Payloads: [][]byte{{typeIDR << 1, 1}}, WantErr: bits.ErrTruncated},
		{Name: "bad SPS", Payloads: [][]byte{{naluSPS << 1, 1, 0x01}, testIDR}, WantErr: bits.ErrTruncated},
		{Name: "PPS over 65535 bytes", Payloads: cat(fu(append(buildPPS(0, 0), make([]byte, 1<<16)...), 1000), [][]byte{testIDR}),
			WantErr: errRecordLength},
		{Name: "PPS id out of range", Payloads: [][]byte{buildPPS(64, 0), testIDR}, WantErr: errSPSValue},
	}
	codectest.RunFrameCases(t, func() mux.FrameDepacketizer { return NewDepacketizer() }, tests)
}

func TestAppendFrameConfig(t *testing.T) {
	d := NewDepacketizer()
	_, info, err := d.AppendFrame(nil, paramsFrame)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := ConfigRecord([][]byte{testVPS}, [][]byte{testSPS}, [][]byte{testPPS})
	if err != nil {
		t.Fatal(err)
	}
	want := mux.VideoConfig{Width: 642, Height: 362, Record: rec}
	if !info.Config.Equal(&want) {
		t.Fatalf("config %+v, want %+v", info.Config, want)
	}
	_, again, err := d.AppendFrame(nil, [][]byte{testCRA})
	if err != nil || again.Config != info.Config {
		t.Fatalf("keyframe without parameter sets: config %p (err %v), want the shared %p", again.Config, err, info.Config)
	}
	sps2 := buildSPS(spsFields{chroma: 1, width: 352, height: 288})
	pps1 := buildPPS(1, 0)
	_, changed, err := d.AppendFrame(nil, [][]byte{ap(sps2, pps1), testIDR})
	if err != nil {
		t.Fatal(err)
	}
	rec2, _ := ConfigRecord([][]byte{testVPS}, [][]byte{sps2}, [][]byte{testPPS, pps1})
	want2 := mux.VideoConfig{Width: 352, Height: 288, Record: rec2}
	if !changed.Config.Equal(&want2) {
		t.Fatalf("config after SPS change %+v, want %+v", changed.Config, want2)
	}
}

func TestIsFrameStart(t *testing.T) {
	tests := []struct {
		payload []byte
		want    bool
	}{
		{nil, false},
		{[]byte{0x26}, false},
		{testIDR, true},
		{testTrail, true},
		{ap(testVPS, testSPS), true},
		{fu(testIDR, 15)[0], true},
		{fu(testIDR, 15)[1], false},
		{header(pktFU), false},
		{header(pktPACI), false},
	}
	d := NewDepacketizer()
	for i, tt := range tests {
		if got := d.IsFrameStart(tt.payload); got != tt.want {
			t.Errorf("case %d (%x): got %v, want %v", i, tt.payload, got, tt.want)
		}
	}
}
