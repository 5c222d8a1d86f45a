package mp4

import (
	"errors"
	"fmt"
	"io"

	"github.com/kiroku-sfu/kiroku/mux"
)

// moovPlan is a finished moov planned from its tables' counts: its own
// bytes (boxes, fields, entry counts) and the holes where the table
// entries go. Its memory does not grow with the recording's length.
type moovPlan struct {
	fixed []byte
	holes []hole
	size  int64 // the whole moov, holes included
}

// planMoov plans the finished moov of tracks, whose tables are closed.
func planMoov(tracks []moovTrack, force64 bool) (*moovPlan, error) {
	b := newBoxBuf()
	writeMoov(b, tracks, force64)
	if b.err == nil && len(b.open) > 0 {
		b.err = errors.New("a box is not closed")
	}
	if b.err != nil {
		return nil, fmt.Errorf("plan moov: %w", b.err)
	}
	return &moovPlan{fixed: b.b, holes: b.holes, size: int64(len(b.b)) + b.holeBytes}, nil
}

// writeFixed writes the moov's own bytes, its header first, into a moov
// starting at base of dst.
func (p *moovPlan) writeFixed(dst io.WriterAt, base int64) error {
	prev, shift := 0, int64(0)
	for _, h := range p.holes {
		if err := writeAt(dst, p.fixed[prev:h.at], base+int64(prev)+shift); err != nil {
			return fmt.Errorf("write moov: %w", err)
		}
		prev, shift = h.at, shift+h.size
	}
	if err := writeAt(dst, p.fixed[prev:], base+int64(prev)+shift); err != nil {
		return fmt.Errorf("write moov: %w", err)
	}
	return nil
}

// sinks returns, per track ID, the writers of the track's table entries
// into the holes of a moov starting at base of dst.
func (p *moovPlan) sinks(tracks []moovTrack, dst io.WriterAt, base int64, force64 bool) map[uint32]*tableWriters {
	type place struct{ off, size int64 }
	places := map[[2]uint32]place{}
	shift := int64(0)
	for _, h := range p.holes {
		places[[2]uint32{h.track, uint32(h.kind)}] = place{base + int64(h.at) + shift, h.size}
		shift += h.size
	}
	out := make(map[uint32]*tableWriters, len(tracks))
	for _, t := range tracks {
		tw := &tableWriters{co64: useCo64(t.tables.n, force64)}
		for k := range numTableKinds {
			if k == kindStss && t.meta.kind != mux.Video {
				continue
			}
			pl := places[[2]uint32{t.meta.id, uint32(k)}]
			tw.w[k] = newTableWriter(dst, pl.off, pl.size, fmt.Sprintf("track %d %s", t.meta.id, k))
		}
		out[t.meta.id] = tw
	}
	return out
}
