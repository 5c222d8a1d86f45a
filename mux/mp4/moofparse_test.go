package mp4

import (
	"bytes"
	"encoding/binary"
	"testing"

	gomp4 "github.com/abema/go-mp4"
)

// testMoof returns a moof written by the fragmenter for two tracks, with
// the samples its trafs must read back as.
func testMoof(t testing.TB) ([]byte, [][]trafSample) {
	t.Helper()
	video := newPending(initialHeadroom)
	video.sdi = 2
	video.add(pendingSample{start: 9000, size: 3, sync: true}, []byte{1, 2, 3})
	video.add(pendingSample{start: 12000, size: 2}, []byte{4, 5})
	audio := newPending(0)
	audio.sdi = 1
	audio.add(pendingSample{start: 4800, size: 1, sync: true}, []byte{6})
	tracks := []fragmentTrack{{id: 1, p: &video, lastDur: 2500}, {id: 2, p: &audio, lastDur: 960}}
	data, err := newFragmenter().build(tracks, &video)
	if err != nil {
		t.Fatal(err)
	}
	size := binary.BigEndian.Uint32(data)
	want := [][]trafSample{{{3000, 3, true}, {2500, 2, false}}, {{960, 1, true}}}
	return bytes.Clone(data[:size]), want
}

func TestParseMoof(t *testing.T) {
	moof, want := testMoof(t)
	var p moofParser
	for range 2 { // the second parse reuses the first's slices
		trafs, err := p.parse(moof)
		if err != nil {
			t.Fatalf("parse: %v", err)
		}
		if len(trafs) != 2 || trafs[0].trackID != 1 || trafs[0].sdi != 2 || trafs[0].baseTime != 9000 ||
			trafs[1].trackID != 2 || trafs[1].sdi != 1 || trafs[1].baseTime != 4800 {
			t.Fatalf("trafs %+v", trafs)
		}
		for i, tr := range trafs {
			if len(tr.runs) != 1 || !equalSlices(tr.runs[0].samples, want[i]) {
				t.Errorf("traf %d runs %+v, want samples %+v", i, tr.runs, want[i])
			}
		}
	}
}

func TestParseMoofRejects(t *testing.T) {
	moof, _ := testMoof(t)
	// Offsets into moof: moof header 8, mfhd 16, traf header 8, then tfhd
	// (20 bytes) and tfdt.
	const tfhd = 8 + 16 + 8
	const tfdt = tfhd + 20
	tests := []struct {
		name   string
		change func(b []byte) []byte
	}{
		{"not a moof", func(b []byte) []byte { copy(b[4:], "free"); return b }},
		{"cut short", func(b []byte) []byte { return b[:len(b)-1] }},
		{"child overruns", func(b []byte) []byte { binary.BigEndian.PutUint32(b[8:], 1<<20); return b }},
		{"tfhd without base-is-moof", func(b []byte) []byte { b[tfhd+8+1] = 0; return b }},
		{"tfhd too short", func(b []byte) []byte { binary.BigEndian.PutUint32(b[tfhd+8:], 0x020002|0x20); return b }},
		{"tfdt bad version", func(b []byte) []byte { b[tfdt+8] = 7; return b }},
		{"no tfdt", func(b []byte) []byte { copy(b[tfdt+4:], "skip"); return b }},
	}
	if string(moof[tfdt+4:tfdt+8]) != "tfdt" {
		t.Fatalf("no tfdt at %d: the offsets above are stale", tfdt)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p moofParser
			if trafs, err := p.parse(tt.change(bytes.Clone(moof))); err == nil {
				t.Errorf("parse accepted it: %+v", trafs)
			}
		})
	}
}

// FuzzParseMoof checks that no moof makes the parser panic or return a run
// whose samples do not match what its trun holds.
func FuzzParseMoof(f *testing.F) {
	moof, _ := testMoof(f)
	f.Add(moof)
	f.Add(moof[:40])
	f.Fuzz(func(t *testing.T, b []byte) {
		var p moofParser
		trafs, err := p.parse(b)
		if err != nil {
			return
		}
		for _, tr := range trafs {
			if tr.tfhd == nil || !tr.hasTime {
				t.Fatalf("traf without tfhd or tfdt accepted: %+v", tr)
			}
			for _, r := range tr.runs {
				var sum uint64
				for _, s := range r.samples {
					sum += uint64(s.size)
				}
				if sum != r.bytes {
					t.Fatalf("run of %d bytes has samples of %d", r.bytes, sum)
				}
			}
		}
	})
}

// TestMoofAsGoMP4ReadsIt checks the parser against go-mp4's reading of the
// same moof.
func TestMoofAsGoMP4ReadsIt(t *testing.T) {
	moof, _ := testMoof(t)
	var p moofParser
	trafs, err := p.parse(moof)
	if err != nil {
		t.Fatal(err)
	}
	traf := gomp4.BoxPath{gomp4.BoxTypeMoof(), gomp4.BoxTypeTraf()}
	boxes, err := gomp4.ExtractBoxesWithPayload(bytes.NewReader(moof), nil, []gomp4.BoxPath{
		append(traf, gomp4.BoxTypeTfhd()), append(traf, gomp4.BoxTypeTfdt()), append(traf, gomp4.BoxTypeTrun())})
	if err != nil || len(boxes) != 3*len(trafs) {
		t.Fatalf("go-mp4 found %d boxes (%v), want 3 per traf", len(boxes), err)
	}
	for i, tr := range trafs {
		// go-mp4 lists the boxes in file order: tfhd, tfdt, trun per traf.
		tfhd, _ := boxes[3*i].Payload.(*gomp4.Tfhd)
		tfdt, _ := boxes[3*i+1].Payload.(*gomp4.Tfdt)
		trun, _ := boxes[3*i+2].Payload.(*gomp4.Trun)
		if tfhd == nil || tfdt == nil || trun == nil {
			t.Fatalf("traf %d: boxes out of order", i)
		}
		if tfhd.TrackID != tr.trackID || tfhd.SampleDescriptionIndex != tr.sdi || tfdt.GetBaseMediaDecodeTime() != tr.baseTime ||
			trun.DataOffset != tr.runs[0].dataOffset || int(trun.SampleCount) != len(tr.runs[0].samples) {
			t.Fatalf("traf %d: ours %+v; go-mp4 tfhd %+v tfdt %+v trun %+v", i, tr, tfhd, tfdt, trun)
		}
		for j, e := range trun.Entries {
			want := trafSample{duration: e.SampleDuration, size: e.SampleSize, sync: isSync(e.SampleFlags)}
			if tr.runs[0].samples[j] != want {
				t.Errorf("traf %d sample %d: ours %+v, go-mp4 %+v", i, j, tr.runs[0].samples[j], want)
			}
		}
	}
}
