package mp4

import (
	"bytes"
	"testing"

	gomp4 "github.com/abema/go-mp4"

	"github.com/kiroku-sfu/kiroku/mux"
)

// TestSampleTablesEncoding reads the hand-encoded tables back with go-mp4
// and compares them with what was encoded.
func TestSampleTablesEncoding(t *testing.T) {
	full := &sampleTables{
		stts:   []gomp4.SttsEntry{{SampleCount: 3, SampleDelta: 3000}, {SampleCount: 1, SampleDelta: 3500}},
		stss:   []uint32{1, 4},
		stsc:   []gomp4.StscEntry{{FirstChunk: 1, SamplesPerChunk: 3, SampleDescriptionIndex: 1}, {FirstChunk: 2, SamplesPerChunk: 1, SampleDescriptionIndex: 2}},
		sizes:  []uint32{10, 11, 12, 13},
		chunks: []uint64{100, 1<<32 - 1},
	}
	big := &sampleTables{sizes: []uint32{7}, chunks: []uint64{1<<32 + 5}}
	tests := []struct {
		name     string
		track    moovTrack
		force64  bool
		wantCo64 bool
	}{
		{"video stco", moovTrack{meta: trackMeta{kind: mux.Video}, tables: full}, false, false},
		{"video forced co64", moovTrack{meta: trackMeta{kind: mux.Video}, tables: full}, true, true},
		{"audio offset past 4 GiB", moovTrack{meta: trackMeta{kind: mux.Audio}, tables: big}, false, true},
		{"init moov", moovTrack{meta: trackMeta{kind: mux.Video}}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBoxBuf()
			writeSampleTables(b, tt.track, tt.force64)
			enc, err := b.bytes()
			if err != nil {
				t.Fatal(err)
			}
			got := decodeTables(t, enc)
			want := tt.track.tables
			if want == nil {
				want = &sampleTables{}
			}
			if tt.track.meta.kind == mux.Audio || tt.track.tables == nil {
				want = &sampleTables{stts: want.stts, stsc: want.stsc, sizes: want.sizes, chunks: want.chunks}
			}
			if !sameTables(&got.tables, want) || got.co64 != tt.wantCo64 {
				t.Errorf("decoded %+v (co64 %v), want %+v (co64 %v)", got.tables, got.co64, *want, tt.wantCo64)
			}
		})
	}
}

type decodedTables struct {
	tables sampleTables
	co64   bool
}

// decodeTables reads top-level sample table boxes with go-mp4.
func decodeTables(t *testing.T, enc []byte) decodedTables {
	t.Helper()
	var d decodedTables
	boxes, err := gomp4.ExtractBoxesWithPayload(bytes.NewReader(enc), nil, []gomp4.BoxPath{{gomp4.BoxTypeAny()}})
	if err != nil {
		t.Fatalf("decode tables: %v", err)
	}
	tab := &d.tables
	for _, bx := range boxes {
		switch p := bx.Payload.(type) {
		case *gomp4.Stts:
			tab.stts = p.Entries
		case *gomp4.Stss:
			tab.stss = p.SampleNumber
		case *gomp4.Stsc:
			tab.stsc = p.Entries
		case *gomp4.Stsz:
			tab.sizes = p.EntrySize
		case *gomp4.Stco:
			for _, c := range p.ChunkOffset {
				tab.chunks = append(tab.chunks, uint64(c))
			}
		case *gomp4.Co64:
			tab.chunks, d.co64 = p.ChunkOffset, true
		}
	}
	return d
}

// sameTables compares the tables' entries, an empty table equal to none.
func sameTables(a, b *sampleTables) bool {
	return equalSlices(a.stts, b.stts) && equalSlices(a.stss, b.stss) && equalSlices(a.stsc, b.stsc) &&
		equalSlices(a.sizes, b.sizes) && equalSlices(a.chunks, b.chunks)
}
