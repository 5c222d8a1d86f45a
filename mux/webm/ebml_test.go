package webm

import (
	"bytes"
	"errors"
	"testing"

	"github.com/at-wat/ebml-go"
	"github.com/at-wat/ebml-go/webm"
)

func TestAppendSize(t *testing.T) {
	tests := []struct {
		v      uint64
		minLen int
		want   []byte
	}{
		{0, 1, []byte{0x80}},
		{126, 1, []byte{0xFE}},
		{127, 1, []byte{0x40, 0x7F}}, // 0xFF would mean "unknown"
		{5, 2, []byte{0x40, 0x05}},
		{0x3FFE, 1, []byte{0x7F, 0xFE}},
		{0x3FFF, 1, []byte{0x20, 0x3F, 0xFF}},
		{1, 8, []byte{0x01, 0, 0, 0, 0, 0, 0, 1}},
	}
	for _, tc := range tests {
		got := appendSize(nil, tc.v, tc.minLen)
		if !bytes.Equal(got, tc.want) {
			t.Errorf("appendSize(%d, %d) = %x, want %x", tc.v, tc.minLen, got, tc.want)
		}
		h, err := parseHeader(append([]byte{idVoid}, got...))
		if err != nil || h.size != tc.v || h.unknown || h.hdrLen != 1+len(got) {
			t.Errorf("parseHeader of %x = %+v, %v", got, h, err)
		}
	}
}

func TestParseHeader(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
		want header
		err  error
	}{
		{"cluster unknown", []byte{0x1F, 0x43, 0xB6, 0x75, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF},
			header{id: idCluster, size: sizeUnknown, hdrLen: 12, unknown: true}, nil},
		{"one-byte unknown", []byte{0xEC, 0xFF}, header{id: idVoid, size: sizeUnknown, hdrLen: 2, unknown: true}, nil},
		{"block", []byte{0xA3, 0x42, 0x00}, header{id: idSimpleBlock, size: 0x200, hdrLen: 3}, nil},
		{"empty", nil, header{}, errTruncated},
		{"id cut", []byte{0x1F, 0x43}, header{}, errTruncated},
		{"size cut", []byte{0xA3, 0x01, 0x00}, header{}, errTruncated},
		{"zero id", []byte{0x00, 0x80}, header{}, errBadHeader},
		{"5-byte id", []byte{0x08, 1, 2, 3, 4, 0x80}, header{}, errBadHeader},
		{"zero size byte", []byte{0xA3, 0x00}, header{}, errBadHeader},
	}
	for _, tc := range tests {
		h, err := parseHeader(tc.b)
		if !errors.Is(err, tc.err) || (tc.err == nil && h != tc.want) {
			t.Errorf("%s: parseHeader = %+v, %v; want %+v, %v", tc.name, h, err, tc.want, tc.err)
		}
	}
}

func TestFitElement(t *testing.T) {
	for _, payload := range []int{0, 10, 100, 126, 127, 200} {
		minimal := int64(4 + len(appendSize(nil, uint64(payload), 1)) + payload)
		for region := minimal; region < minimal+140; region++ {
			b, err := fitElement(idSeekHead, make([]byte, payload), region)
			if err != nil {
				t.Fatalf("payload %d in %d bytes: %v", payload, region, err)
			}
			// The element and its Void must tile the region exactly.
			h, err := parseHeader(b)
			if err != nil || h.id != idSeekHead || h.size != uint64(payload) {
				t.Fatalf("payload %d in %d: header %+v, %v", payload, region, h, err)
			}
			end := int64(h.hdrLen + payload)
			if end < region {
				v, err := parseHeader(b[end:])
				if err != nil || v.id != idVoid || end+int64(v.hdrLen)+int64(v.size) != region {
					t.Fatalf("payload %d in %d: Void %+v, %v does not fill the rest", payload, region, v, err)
				}
			}
		}
	}
	if _, err := fitElement(idTracks, make([]byte, 50), 40); err == nil {
		t.Error("fitElement fitted 50 bytes into 40")
	}
}

// TestDecodeWithEBMLGo reads a finished file back with ebml-go's decoder:
// every block, cue and head element must be where the writer put them.
func TestDecodeWithEBMLGo(t *testing.T) {
	_, closed := synthFile(t)
	var doc struct {
		Header  webm.EBMLHeader `ebml:"EBML"`
		Segment webm.Segment    `ebml:"Segment"`
	}
	if err := ebml.Unmarshal(bytes.NewReader(closed), &doc, ebml.WithIgnoreUnknown(true)); err != nil {
		t.Fatalf("ebml-go cannot read the file: %v", err)
	}
	seg := doc.Segment
	if doc.Header.DocType != "webm" || seg.Info.TimecodeScale != timecodeScale || seg.Info.Duration != 3010 { // the last audio block (2.96 s) lasts 50 ms
		t.Errorf("header %+v, info %+v", doc.Header, seg.Info)
	}
	if seg.SeekHead == nil || len(seg.SeekHead.Seek) != 3 || seg.Cues == nil || len(seg.Cues.CuePoint) != 3 {
		t.Fatalf("SeekHead %+v, Cues %+v", seg.SeekHead, seg.Cues)
	}
	var video, audio, keys int
	for i, c := range seg.Cluster {
		if c.Timecode != uint64(i)*1000 {
			t.Errorf("cluster %d at %d ms, want %d", i, c.Timecode, i*1000)
		}
		if cp := seg.Cues.CuePoint[i]; cp.CueTime != c.Timecode || cp.CueTrackPositions[0].CueTrack != videoTrack {
			t.Errorf("cue %d: %+v", i, cp)
		}
		for j, b := range c.SimpleBlock {
			switch {
			case b.TrackNumber == videoTrack:
				video++
				if b.Keyframe {
					keys++
					if j != 0 {
						t.Errorf("cluster %d: keyframe at block %d", i, j)
					}
				}
			case b.TrackNumber == audioTrack && b.Keyframe:
				audio++
			default:
				t.Errorf("cluster %d block %d: %+v", i, j, b)
			}
		}
	}
	if video != 30 || audio != 60 || keys != 3 {
		t.Errorf("ebml-go sees %d video (%d key), %d audio blocks; want 30 (3), 60", video, keys, audio)
	}
}
