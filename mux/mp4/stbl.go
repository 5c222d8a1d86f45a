package mp4

import (
	"math"

	"github.com/kiroku-sfu/kiroku/mux"
)

// The sample tables of a moov (ISO/IEC 14496-12 §8.6–8.7) are encoded here
// rather than with gomp4.Marshal: its reflection costs several allocations
// per table entry. Every table is a FullBox of version 0 and flags 0, an
// entry count and fixed-size entries. In a finished moov the entries are
// holes (see boxBuf.hole): the moov is planned from the tables' counts and
// the entries are written into place by a second walk of the fragments
// (tableWriter), so that no table is ever held in memory. Tests read the
// tables back with go-mp4 and judge the files with ffmpeg.

// tableKind names a sample table.
type tableKind uint8

// The sample tables, in the order they appear in stbl.
const (
	kindStts tableKind = iota
	kindStss
	kindStsc
	kindStsz
	kindChunks // stco or co64
	numTableKinds
)

var tableNames = [numTableKinds]string{"stts", "stss", "stsc", "stsz", "chunk offsets"}

func (k tableKind) String() string { return tableNames[k] }

// entrySize is the bytes of one entry of table k.
func entrySize(k tableKind, co64 bool) int64 {
	switch k {
	case kindStts:
		return 8
	case kindStsc:
		return 12
	case kindChunks:
		if co64 {
			return 8
		}
	}
	return 4
}

// writeSampleTables writes stts, stss (video of a finished moov), stsc,
// stsz and stco or co64, each with holes for its entries; in the init moov
// (no tables) they are empty.
func writeSampleTables(b *boxBuf, t moovTrack, force64 bool) {
	var n tableCounts
	if t.tables != nil {
		n = t.tables.n
	}
	co64 := useCo64(n, force64)
	table := func(typ boxType, k tableKind, count uint32) {
		b.fullBox(typ, 0, 0)
		if k == kindStsz {
			b.u32(0) // sample_size 0: a size per sample
		}
		b.u32(count)
		b.hole(t.meta.id, k, int64(count)*entrySize(k, co64))
		b.end()
	}
	table(typeStts, kindStts, n.stts)
	if t.meta.kind == mux.Video && t.tables != nil {
		table(typeStss, kindStss, n.stss)
	}
	table(typeStsc, kindStsc, n.stsc)
	table(typeStsz, kindStsz, n.samples)
	if co64 {
		table(typeCo64, kindChunks, n.chunks)
	} else {
		table(typeStco, kindChunks, n.chunks)
	}
}

// useCo64 reports whether the chunk offsets need co64: forced, or an
// offset that does not fit stco's 32 bits.
func useCo64(n tableCounts, force64 bool) bool {
	return force64 || n.maxChunk > math.MaxUint32
}
