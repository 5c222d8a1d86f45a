package mp4

import (
	"math"

	gomp4 "github.com/abema/go-mp4"

	"github.com/kiroku-sfu/kiroku/mux"
)

// The sample tables of a moov (ISO/IEC 14496-12 §8.6–8.7) are encoded here
// rather than with gomp4.Marshal: its reflection costs several allocations
// per table entry, which made building the moov a third of the whole cost
// of recording a 10 s file (BenchmarkWholeFile). Every table is a FullBox
// of version 0 and flags 0, an entry count and fixed-size entries. Tests
// read the tables back with go-mp4 and judge the files with ffmpeg.

// writeSampleTables writes stts, stss (video of a finished moov), stsc,
// stsz and stco or co64; in the init moov (no tables) they are empty.
func writeSampleTables(b *boxBuf, t moovTrack, force64 bool) {
	tab := t.tables
	if tab == nil {
		tab = &sampleTables{}
	}
	b.fullBox(gomp4.BoxTypeStts(), 0, 0)
	b.u32(uint32(len(tab.stts)))
	for _, e := range tab.stts {
		b.u32(e.SampleCount)
		b.u32(e.SampleDelta)
	}
	b.end()
	if t.meta.kind == mux.Video && t.tables != nil {
		b.fullBox(gomp4.BoxTypeStss(), 0, 0)
		b.u32(uint32(len(tab.stss)))
		for _, n := range tab.stss {
			b.u32(n)
		}
		b.end()
	}
	b.fullBox(gomp4.BoxTypeStsc(), 0, 0)
	b.u32(uint32(len(tab.stsc)))
	for _, e := range tab.stsc {
		b.u32(e.FirstChunk)
		b.u32(e.SamplesPerChunk)
		b.u32(e.SampleDescriptionIndex)
	}
	b.end()
	writeStsz(b, tab.sizes)
	writeChunkOffsets(b, tab.chunks, force64)
}

// writeStsz writes stsz with a size per sample (sample_size 0).
func writeStsz(b *boxBuf, sizes []uint32) {
	b.fullBox(gomp4.BoxTypeStsz(), 0, 0)
	b.u32(0)
	b.u32(uint32(len(sizes)))
	for _, s := range sizes {
		b.u32(s)
	}
	b.end()
}

// writeChunkOffsets writes stco, or co64 when forced or when an offset
// does not fit 32 bits.
func writeChunkOffsets(b *boxBuf, chunks []uint64, force64 bool) {
	if force64 || needsCo64(chunks) {
		b.fullBox(gomp4.BoxTypeCo64(), 0, 0)
		b.u32(uint32(len(chunks)))
		for _, c := range chunks {
			b.u64(c)
		}
		b.end()
		return
	}
	b.fullBox(gomp4.BoxTypeStco(), 0, 0)
	b.u32(uint32(len(chunks)))
	for _, c := range chunks {
		b.u32(uint32(c))
	}
	b.end()
}

// needsCo64 reports whether a chunk offset does not fit stco's 32 bits.
func needsCo64(chunks []uint64) bool {
	for _, c := range chunks {
		if c > math.MaxUint32 {
			return true
		}
	}
	return false
}
