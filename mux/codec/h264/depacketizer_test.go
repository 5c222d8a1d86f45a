package h264

import (
	"bytes"
	"errors"
	"testing"

	"github.com/kiroku-sfu/kiroku/mux"
	"github.com/kiroku-sfu/kiroku/mux/codec/internal/bits"
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
	tests := []struct {
		name     string
		before   [][][]byte // frames fed first, each must succeed
		payloads [][]byte
		want     []byte // output after the "xx" prefix
		keyframe bool
		wantErr  error // nil: success
	}{
		{name: "STAP-A params and single IDR", payloads: paramsFrame, want: avcc(testIDR), keyframe: true},
		{name: "params as single NAL packets, AUD and filler dropped",
			payloads: [][]byte{testAUD, testSPS, testPPS, testSEI, testIDR, testFiller},
			want:     avcc(testSEI, testIDR), keyframe: true},
		{name: "FU-A IDR in three fragments", payloads: cat([][]byte{stapA(testSPS, testPPS)}, fuA(testIDR, 15)),
			want: avcc(testIDR), keyframe: true},
		{name: "two FU-A slices", payloads: cat([][]byte{stapA(testSPS, testPPS)}, fuA(testIDR, 10), fuA(testIDR2, 10)),
			want: avcc(testIDR, testIDR2), keyframe: true},
		{name: "SPS and PPS fragmented", payloads: cat(fuA(testSPS, 3), fuA(testPPS, 2), [][]byte{testIDR}),
			want: avcc(testIDR), keyframe: true},
		{name: "FU-A with start and end bits together", payloads: [][]byte{stapA(testSPS, testPPS),
			append([]byte{pktFUA | 0x60, fuStartBit | fuEndBit | naluIDR}, testIDR[1:]...)},
			want: avcc(testIDR), keyframe: true},
		{name: "STAP-A with SEI and slice", payloads: [][]byte{stapA(testSPS, testPPS, testSEI, testIDR)},
			want: avcc(testSEI, testIDR), keyframe: true},
		{name: "P frame after keyframe", before: [][][]byte{paramsFrame}, payloads: fuA(testP, 8), want: avcc(testP)},
		{name: "P frame with unknown PPS", payloads: [][]byte{testP}, want: avcc(testP)},
		{name: "P frame with an SPS that forbids reordering", before: [][][]byte{{noReordSPS, testPPS, testIDR}},
			payloads: [][]byte{testP}, want: avcc(testP)},

		{name: "keyframe before parameter sets", payloads: [][]byte{testIDR}, wantErr: ErrMissingParameterSets},
		{name: "keyframe with PPS but no SPS", payloads: [][]byte{testPPS, testIDR}, wantErr: ErrMissingParameterSets},
		{name: "B slice", before: [][][]byte{paramsFrame}, payloads: [][]byte{testB}, wantErr: mux.ErrReordering},
		{name: "SPS with reordering on keyframe", payloads: [][]byte{reorderSPS, testPPS, testIDR}, wantErr: mux.ErrReordering},
		{name: "SPS with reordering on P frame", before: [][][]byte{paramsFrame},
			payloads: [][]byte{reorderSPS, testPPS, testP}, wantErr: mux.ErrReordering},
		{name: "STAP-B", payloads: [][]byte{{pktSTAPB, 0, 0, 0, 1, 0x65}}, wantErr: mux.ErrUnsupported},
		{name: "MTAP16", payloads: [][]byte{{pktMTAP16, 0, 0}}, wantErr: mux.ErrUnsupported},
		{name: "MTAP24", payloads: [][]byte{{pktMTAP24, 0, 0}}, wantErr: mux.ErrUnsupported},
		{name: "FU-B", payloads: [][]byte{{pktFUB, 0x85, 0, 0}}, wantErr: mux.ErrUnsupported},
		{name: "no payloads", payloads: nil, wantErr: errNoSlice},
		{name: "only parameter sets", payloads: [][]byte{stapA(testSPS, testPPS)}, wantErr: errNoSlice},
		{name: "empty payload", payloads: [][]byte{{}}, wantErr: errEmpty},
		{name: "forbidden bit on packet", payloads: [][]byte{append([]byte{0x80 | testIDR[0]}, testIDR[1:]...)}, wantErr: errForbidden},
		{name: "forbidden bit inside STAP-A", payloads: [][]byte{stapA(testSPS, []byte{0xe8, 0x80})}, wantErr: errForbidden},
		{name: "forbidden bit on FU indicator", payloads: [][]byte{{0x80 | pktFUA, 0xc5, 1}}, wantErr: errForbidden},
		{name: "NAL type 0", payloads: [][]byte{{0x00, 0x80}}, wantErr: errNALType},
		{name: "NAL type 30", payloads: [][]byte{{0x1e, 0x80}}, wantErr: errNALType},
		{name: "STAP-A inside STAP-A", payloads: [][]byte{stapA([]byte{0x18, 0, 1, 0x65})}, wantErr: errNALType},
		{name: "FU-A of type 24", payloads: [][]byte{{pktFUA, 0xc0 | 24, 1}}, wantErr: errNALType},
		{name: "truncated STAP-A length", payloads: [][]byte{append(stapA(testSPS), 0)}, wantErr: errTruncated},
		{name: "truncated STAP-A unit", payloads: [][]byte{stapA(testSPS)[:10]}, wantErr: errTruncated},
		{name: "empty STAP-A", payloads: [][]byte{{pktSTAPA}}, wantErr: errTruncated},
		{name: "zero-length NAL in STAP-A", payloads: [][]byte{{pktSTAPA, 0, 0, 0, 2, 0x65, 0x88}}, wantErr: errEmpty},
		{name: "FU-A header missing", payloads: [][]byte{{pktFUA}}, wantErr: errTruncated},
		{name: "FU-A without start", payloads: fuA(testIDR, 15)[1:], wantErr: errFUNoStart},
		{name: "FU-A without end", payloads: fuA(testIDR, 15)[:2], wantErr: errFUInterrupted},
		{name: "FU-A restarted", payloads: cat(fuA(testIDR, 15)[:1], fuA(testIDR, 15)), wantErr: errFUInterrupted},
		{name: "FU-A interrupted by single NAL", payloads: cat(fuA(testIDR, 15)[:1], [][]byte{testSEI}), wantErr: errFUInterrupted},
		{name: "FU-A type changes", payloads: cat(fuA(testIDR, 15)[:1], fuA(testP, 15)[1:]), wantErr: errFUNoStart},
		{name: "slice type out of range", payloads: [][]byte{buildSlice(naluSlice, 0, 10, 0, 4)}, wantErr: errSliceHeader},
		{name: "truncated slice header", payloads: [][]byte{{0x65, 0x00}}, wantErr: bits.ErrTruncated},
		{name: "bad SPS", payloads: [][]byte{{0x67, 0x42}, testIDR}, wantErr: errSPSNotSPS},
		{name: "PPS over 65535 bytes", payloads: cat(fuA(append(buildPPS(0, 0), make([]byte, 1<<16)...), 1000), [][]byte{testIDR}),
			wantErr: errRecordLength},
		{name: "PPS id out of range", payloads: [][]byte{buildPPS(256, 0), testIDR}, wantErr: errSPSValue},
		{name: "PPS names SPS id out of range", payloads: [][]byte{buildPPS(0, 32), testIDR}, wantErr: errSPSValue},
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
				if len(out) != 2 || string(out) != "xx" || info != (mux.FrameInfo{}) {
					t.Fatalf("failed call returned %q, %+v", out, info)
				}
				return
			}
			if err != nil {
				t.Fatalf("AppendFrame: %v", err)
			}
			if string(out[:2]) != "xx" || !bytes.Equal(out[2:], tt.want) {
				t.Fatalf("output %x\nwant   78 78 %x", out, tt.want)
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
