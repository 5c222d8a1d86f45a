package h265

import (
	"bytes"
	"errors"
	"testing"

	"github.com/kiroku-sfu/kiroku/mux"
	"github.com/kiroku-sfu/kiroku/mux/codec/internal/bits"
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
	tests := []struct {
		name     string
		before   [][][]byte // frames fed first, each must succeed
		payloads [][]byte
		want     []byte // output after the "xx" prefix
		keyframe bool
		wantErr  error // nil: success
	}{
		{name: "AP params and single IDR", payloads: paramsFrame, want: avcc(testIDR), keyframe: true},
		{name: "single NAL packets, AUD dropped, SEI kept",
			payloads: [][]byte{testAUD, testVPS, testSPS, testPPS, testSEI, testCRA},
			want:     avcc(testSEI, testCRA), keyframe: true},
		{name: "FU IDR in three fragments", payloads: cat([][]byte{ap(testVPS, testSPS, testPPS)}, fu(testIDR, 15)),
			want: avcc(testIDR), keyframe: true},
		{name: "parameter sets fragmented", payloads: cat(fu(testVPS, 2), fu(testSPS, 7), fu(testPPS, 1), [][]byte{testIDR}),
			want: avcc(testIDR), keyframe: true},
		{name: "AP with SEI and slice", payloads: [][]byte{ap(testVPS, testSPS, testPPS, testSEI, testIDR)},
			want: avcc(testSEI, testIDR), keyframe: true},
		{name: "FU with start and end bits together", payloads: [][]byte{ap(testVPS, testSPS, testPPS),
			append([]byte{pktFU << 1, 1, fuStartBit | fuEndBit | typeIDR}, testIDR[2:]...)},
			want: avcc(testIDR), keyframe: true},
		{name: "trailing picture after keyframe", before: [][][]byte{paramsFrame}, payloads: fu(testTrail, 9), want: avcc(testTrail)},
		{name: "enhancement-layer parameter sets dropped", payloads: [][]byte{paramsFrame[0],
			append([]byte{testSPS[0] | 1, testSPS[1]}, 0xff), testIDR}, want: avcc(testIDR), keyframe: true},
		{name: "trailing picture with unknown PPS", payloads: [][]byte{testTrail}, want: avcc(testTrail)},

		{name: "keyframe before parameter sets", payloads: [][]byte{testIDR}, wantErr: ErrMissingParameterSets},
		{name: "keyframe without VPS", payloads: [][]byte{testSPS, testPPS, testIDR}, wantErr: ErrMissingParameterSets},
		{name: "SPS with reordering on keyframe", payloads: [][]byte{testVPS, reorderSPS, testPPS, testIDR}, wantErr: mux.ErrReordering},
		{name: "SPS with reordering on trailing picture", before: [][][]byte{paramsFrame},
			payloads: [][]byte{reorderSPS, testPPS, testTrail}, wantErr: mux.ErrReordering},
		{name: "PACI", payloads: [][]byte{{pktPACI << 1, 1, 0, 0, 0x26, 1}}, wantErr: mux.ErrUnsupported},
		{name: "no payloads", payloads: nil, wantErr: errNoSlice},
		{name: "only parameter sets", payloads: [][]byte{ap(testVPS, testSPS, testPPS)}, wantErr: errNoSlice},
		{name: "empty payload", payloads: [][]byte{{}}, wantErr: errTruncated},
		{name: "one-byte payload", payloads: [][]byte{{0x26}}, wantErr: errTruncated},
		{name: "forbidden bit on packet", payloads: [][]byte{append([]byte{0x80 | testIDR[0]}, testIDR[1:]...)}, wantErr: errForbidden},
		{name: "forbidden bit inside AP", payloads: [][]byte{ap(testVPS, []byte{0x80 | typeSEI<<1, 1, 0x80})}, wantErr: errForbidden},
		{name: "forbidden bit on FU", payloads: [][]byte{{0x80 | pktFU<<1, 1, 0xc0 | typeIDR, 1}}, wantErr: errForbidden},
		{name: "temporal id 0", payloads: [][]byte{{typeIDR << 1, 0, 0x80}}, wantErr: errTemporalID},
		{name: "packet type 51", payloads: [][]byte{{51 << 1, 1, 0}}, wantErr: errNALType},
		{name: "AP inside AP", payloads: [][]byte{ap(ap(testSEI))}, wantErr: errNALType},
		{name: "FU of type 48", payloads: [][]byte{{pktFU << 1, 1, 0xc0 | pktAP, 1}}, wantErr: errNALType},
		{name: "truncated AP length", payloads: [][]byte{append(ap(testSEI), 0)}, wantErr: errTruncated},
		{name: "truncated AP unit", payloads: [][]byte{ap(testSPS)[:10]}, wantErr: errTruncated},
		{name: "empty AP", payloads: [][]byte{header(pktAP)}, wantErr: errTruncated},
		{name: "zero-length NAL in AP", payloads: [][]byte{{pktAP << 1, 1, 0, 0, 0, 2, 0x26, 1}}, wantErr: errEmpty},
		{name: "one-byte NAL in AP", payloads: [][]byte{{pktAP << 1, 1, 0, 1, 0x26}}, wantErr: errTruncated},
		{name: "FU header missing", payloads: [][]byte{header(pktFU)}, wantErr: errTruncated},
		{name: "FU without start", payloads: fu(testIDR, 15)[1:], wantErr: errFUNoStart},
		{name: "FU without end", payloads: fu(testIDR, 15)[:2], wantErr: errFUInterrupted},
		{name: "FU restarted", payloads: cat(fu(testIDR, 15)[:1], fu(testIDR, 15)), wantErr: errFUInterrupted},
		{name: "FU interrupted by single NAL", payloads: cat(fu(testIDR, 15)[:1], [][]byte{testSEI}), wantErr: errFUInterrupted},
		{name: "FU type changes", payloads: cat(fu(testIDR, 15)[:1], fu(testTrail, 15)[1:]), wantErr: errFUNoStart},
		{name: "slice PPS id out of range", payloads: [][]byte{buildSlice(typeTrailR, 64, 2)}, wantErr: errSPSValue},
		{name: "truncated slice header", payloads: [][]byte{{typeIDR << 1, 1}}, wantErr: bits.ErrTruncated},
		{name: "bad SPS", payloads: [][]byte{{naluSPS << 1, 1, 0x01}, testIDR}, wantErr: bits.ErrTruncated},
		{name: "PPS over 65535 bytes", payloads: cat(fu(append(buildPPS(0, 0), make([]byte, 1<<16)...), 1000), [][]byte{testIDR}),
			wantErr: errRecordLength},
		{name: "PPS id out of range", payloads: [][]byte{buildPPS(64, 0), testIDR}, wantErr: errSPSValue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDepacketizer()
			for i, fr := range tt.before {
				if _, _, err := d.AppendFrame(nil, fr); err != nil {
					t.Fatalf("setup frame %d: %v", i, err)
				}
			}
			dst := make([]byte, 2, 4096) // spare capacity: errors must not touch the prefix
			copy(dst, "xx")
			out, info, err := d.AppendFrame(dst, tt.payloads)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err %v, want %v", err, tt.wantErr)
				}
				if string(out) != "xx" || info != (mux.FrameInfo{}) {
					t.Fatalf("failed call returned %q, %+v", out, info)
				}
				return
			}
			if err != nil {
				t.Fatalf("AppendFrame: %v", err)
			}
			if string(out[:2]) != "xx" || !bytes.Equal(out[2:], tt.want) {
				t.Fatalf("output %x\nwant   7878%x", out, tt.want)
			}
			if info.Keyframe != tt.keyframe || (info.Config != nil) != tt.keyframe {
				t.Fatalf("info %+v, keyframe want %v", info, tt.keyframe)
			}
		})
	}
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
