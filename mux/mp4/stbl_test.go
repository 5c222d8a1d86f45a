package mp4

import (
	"bytes"
	"testing"

	gomp4 "github.com/abema/go-mp4"

	"github.com/kiroku-sfu/kiroku/mux"
)

// tableEntries is what a track's sample tables hold, as go-mp4 reads them.
type tableEntries struct {
	stts   []gomp4.SttsEntry
	stss   []uint32
	stsc   []gomp4.StscEntry
	sizes  []uint32
	chunks []uint64
	co64   bool
}

func (a tableEntries) equal(b tableEntries) bool {
	return equalSlices(a.stts, b.stts) && equalSlices(a.stss, b.stss) && equalSlices(a.stsc, b.stsc) &&
		equalSlices(a.sizes, b.sizes) && equalSlices(a.chunks, b.chunks) && a.co64 == b.co64
}

// feedSamples adds chunks of samples to tables as a walk of fragments does.
type feedSamples func(tab *sampleTables)

// encodeTables encodes a track's tables the way finish does: a first pass
// counts, writeSampleTables plans the boxes with holes, a second pass
// writes the entries into them.
func encodeTables(t *testing.T, meta trackMeta, feed feedSamples, force64 bool) ([]byte, *sampleTables, error) {
	t.Helper()
	counted := &sampleTables{}
	feed(counted)
	counted.close()
	mt := moovTrack{meta: meta, tables: counted}
	b := newBoxBuf()
	writeSampleTables(b, mt, force64)
	plan := &moovPlan{fixed: b.b, holes: b.holes, size: int64(len(b.b)) + b.holeBytes}
	out := make(memWriterAt, plan.size)
	if err := plan.writeFixed(out, 0); err != nil {
		t.Fatal(err)
	}
	sinks := plan.sinks([]moovTrack{mt}, out, 0, force64)
	second := &sampleTables{sink: sinks[meta.id]}
	feed(second)
	second.close()
	return out, counted, sinks[meta.id].done()
}

// sixSamples is two chunks, the second past 4 GiB, with a damaged time.
func sixSamples(tab *sampleTables) {
	tab.addChunk(100, 3, 1)
	tab.addSample(3000, 3000, 10, true)
	tab.addSample(6000, 3000, 11, false)
	tab.addSample(9000, 3000, 12, false)
	tab.addChunk(1<<32+5, 3, 1) // a synthetic offset past 4 GiB
	tab.addSample(12000, 3000, 13, true)
	tab.addSample(15500, 3000, 14, false)
	tab.addSample(14000, 2000, 15, false) // backwards: damaged, keeps its own duration
}

// fourSamples is two chunks of different sample entries below 4 GiB.
func fourSamples(tab *sampleTables) {
	tab.addChunk(100, 3, 1)
	tab.addSample(0, 3000, 10, true)
	tab.addSample(3000, 3000, 11, false)
	tab.addSample(6000, 3000, 12, false)
	tab.addChunk(1<<32-1, 1, 2)
	tab.addSample(9000, 3500, 13, true)
}

// TestSampleTablesEncoding reads the planned and written tables back with
// go-mp4 and compares them with what the samples make.
func TestSampleTablesEncoding(t *testing.T) {
	video := trackMeta{id: 1, kind: mux.Video}
	audio := trackMeta{id: 2, kind: mux.Audio}
	four := tableEntries{
		stts:   []gomp4.SttsEntry{{SampleCount: 3, SampleDelta: 3000}, {SampleCount: 1, SampleDelta: 3500}},
		stss:   []uint32{1, 4},
		stsc:   []gomp4.StscEntry{{FirstChunk: 1, SamplesPerChunk: 3, SampleDescriptionIndex: 1}, {FirstChunk: 2, SamplesPerChunk: 1, SampleDescriptionIndex: 2}},
		sizes:  []uint32{10, 11, 12, 13},
		chunks: []uint64{100, 1<<32 - 1},
	}
	forced := four
	forced.co64 = true
	six := tableEntries{
		stts:   []gomp4.SttsEntry{{SampleCount: 3, SampleDelta: 3000}, {SampleCount: 1, SampleDelta: 3500}, {SampleCount: 1, SampleDelta: 3000}, {SampleCount: 1, SampleDelta: 2000}},
		stsc:   []gomp4.StscEntry{{FirstChunk: 1, SamplesPerChunk: 3, SampleDescriptionIndex: 1}},
		sizes:  []uint32{10, 11, 12, 13, 14, 15},
		chunks: []uint64{100, 1<<32 + 5},
		co64:   true,
	}
	tests := []struct {
		name    string
		meta    trackMeta
		feed    feedSamples
		force64 bool
		want    tableEntries
	}{
		{"video stco", video, fourSamples, false, four},
		{"video forced co64", video, fourSamples, true, forced},
		{"audio offset past 4 GiB, no stss", audio, sixSamples, false, six},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc, _, err := encodeTables(t, tt.meta, tt.feed, tt.force64)
			if err != nil {
				t.Fatal(err)
			}
			if got := decodeTables(t, enc); !got.equal(tt.want) {
				t.Errorf("decoded %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestInitMoovTables checks the empty tables of the init moov.
func TestInitMoovTables(t *testing.T) {
	b := newBoxBuf()
	writeSampleTables(b, moovTrack{meta: trackMeta{id: 1, kind: mux.Video}}, false)
	enc, err := b.bytes()
	if err != nil {
		t.Fatal(err)
	}
	if got := decodeTables(t, enc); !got.equal(tableEntries{}) {
		t.Errorf("init moov tables %+v, want empty", got)
	}
}

// TestTablesNotAsPlanned checks that a second pass finding more or fewer
// samples than the first fails instead of writing past its holes.
func TestTablesNotAsPlanned(t *testing.T) {
	meta := trackMeta{id: 1, kind: mux.Video}
	calls := 0
	tests := []struct {
		name string
		feed feedSamples
	}{
		{"more", func(tab *sampleTables) {
			fourSamples(tab)
			if calls++; calls == 2 {
				tab.addSample(12500, 3000, 14, true)
			}
		}},
		{"fewer", func(tab *sampleTables) {
			if calls++; calls == 2 {
				tab.addChunk(100, 1, 1)
				tab.addSample(0, 3000, 10, true)
				return
			}
			fourSamples(tab)
		}},
	}
	for _, tt := range tests {
		calls = 0
		if _, _, err := encodeTables(t, meta, tt.feed, false); err == nil {
			t.Errorf("%s samples on the second pass: no error", tt.name)
		}
	}
}

// decodeTables reads top-level sample table boxes with go-mp4.
func decodeTables(t *testing.T, enc []byte) tableEntries {
	t.Helper()
	var d tableEntries
	boxes, err := gomp4.ExtractBoxesWithPayload(bytes.NewReader(enc), nil, []gomp4.BoxPath{{gomp4.BoxTypeAny()}})
	if err != nil {
		t.Fatalf("decode tables: %v", err)
	}
	for _, bx := range boxes {
		switch p := bx.Payload.(type) {
		case *gomp4.Stts:
			d.stts = p.Entries
		case *gomp4.Stss:
			d.stss = p.SampleNumber
		case *gomp4.Stsc:
			d.stsc = p.Entries
		case *gomp4.Stsz:
			d.sizes = p.EntrySize
		case *gomp4.Stco:
			for _, c := range p.ChunkOffset {
				d.chunks = append(d.chunks, uint64(c))
			}
		case *gomp4.Co64:
			d.chunks, d.co64 = p.ChunkOffset, true
		}
	}
	return d
}
