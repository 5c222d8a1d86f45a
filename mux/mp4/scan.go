package mp4

import (
	"errors"
	"fmt"
	"io"
	"slices"
)

// Bounds on boxes read into memory while scanning; anything larger is
// damage, not something this package wrote.
const (
	maxMoovBytes = maxReservedHeaderBytes
	maxMoofBytes = 16 << 20
)

// ErrNotRecording reports a file whose start is not a kiroku MP4 (ftyp,
// then moov); nothing is changed in it.
var ErrNotRecording = errors.New("mp4: not a kiroku recording (ftyp, moov expected)")

// scanned is what a walk of a file finds: its tracks, the reserved region,
// and the sample tables of every complete fragment.
type scanned struct {
	moovOff     int64
	reservedEnd int64 // end of the reserved region (moov + free)
	fragmented  bool  // the moov still has mvex: not finished yet
	tracks      []trackMeta
	tables      []*sampleTables
	moofs       []int64     // offsets of the complete fragments' moof boxes
	end         int64       // end of the last complete fragment
	finished    *moovParser // the moov of a finished file, for its stats

	// Reused for every fragment read back.
	peekBuf    []byte
	moofBuf    []byte
	moofParser moofParser
}

// scan walks a file of size bytes. For a file being recorded it stops at
// the first box that is not part of a complete fragment; end tells where.
func scan(r io.ReaderAt, size int64) (*scanned, error) {
	sr := io.NewSectionReader(r, 0, size)
	ftyp, err := readHeader(sr, 0)
	if err != nil || ftyp.typ != typeFtyp {
		return nil, fmt.Errorf("scan ftyp: %w", errors.Join(ErrNotRecording, err))
	}
	s := &scanned{moovOff: int64(ftyp.size)}
	moov, err := readHeader(sr, s.moovOff)
	if err == nil && moov.typ != typeMoov {
		return s.scanMoovAtEnd(r, sr)
	}
	if err != nil || moov.size > maxMoovBytes {
		return nil, fmt.Errorf("scan moov: %w", errors.Join(ErrNotRecording, err))
	}
	if err := s.readMoov(r, moov); err != nil {
		return nil, err
	}
	s.reservedEnd = s.moovOff + int64(moov.size)
	if free, err := readHeader(sr, s.reservedEnd); err == nil && free.typ == typeFree {
		s.reservedEnd += int64(free.size)
	}
	s.end = s.walk(r, sr, s.reservedEnd)
	return s, nil
}

// scanMoovAtEnd handles a file whose moov does not follow ftyp: a finished
// file with its moov appended, possibly with moof boxes left by a finish
// that was cut short. Only moof offsets are collected.
func (s *scanned) scanMoovAtEnd(r io.ReaderAt, sr *io.SectionReader) (*scanned, error) {
	found := false
	for off := s.moovOff; off < sr.Size(); {
		bi, err := readHeader(sr, off)
		if err != nil {
			return nil, fmt.Errorf("scan: %w", errors.Join(ErrNotRecording, err))
		}
		switch {
		case bi.typ == typeMoof:
			s.moofs = append(s.moofs, off)
		case bi.typ == typeMoov && !found && bi.size <= maxMoovBytes:
			s.moovOff = off
			if err := s.readMoov(r, bi); err != nil {
				return nil, err
			}
			found = true
		}
		off += int64(bi.size)
	}
	if !found || s.fragmented {
		return nil, fmt.Errorf("scan: no finished moov: %w", ErrNotRecording)
	}
	s.end = sr.Size()
	return s, nil
}

func (s *scanned) readMoov(r io.ReaderAt, bi boxInfo) error {
	buf := make([]byte, bi.size)
	if _, err := r.ReadAt(buf, s.moovOff); err != nil {
		return fmt.Errorf("read moov: %w", err)
	}
	p, err := parseMoov(buf)
	if err != nil {
		return errors.Join(ErrNotRecording, err)
	}
	s.tracks, s.fragmented = p.tracks, p.fragmented
	if !p.fragmented {
		s.finished = p
	}
	s.newTables()
	return nil
}

// newTables gives every track empty sample tables.
func (s *scanned) newTables() {
	s.tables = make([]*sampleTables, len(s.tracks))
	for i := range s.tables {
		s.tables[i] = &sampleTables{}
	}
}

// peekSize is how much of the file the walk reads at each box: a
// fragment's moof and the header of its mdat usually fit, so that a
// fragment costs one read.
const peekSize = 8 << 10

// walk visits top-level boxes from off and returns where the complete
// fragments end. In a finished file it only notes stray moof boxes.
func (s *scanned) walk(r io.ReaderAt, sr *io.SectionReader, off int64) int64 {
	for off < sr.Size() {
		peek, err := s.peek(sr, off)
		if err != nil {
			return off
		}
		h, err := parseBoxHead(peek, uint64(sr.Size()-off))
		if err != nil {
			return off
		}
		switch {
		case h.typ == typeMoof && s.fragmented:
			next, err := s.fragment(r, sr, off, h, peek)
			if err != nil {
				if next, err = s.skipFragment(sr, off, h); err != nil {
					return off
				}
			}
			off = next
			continue
		case h.typ == typeMoof:
			s.moofs = append(s.moofs, off)
		case !s.fragmented, h.typ == typeFree, h.typ == typeSkip:
		default:
			return off
		}
		off += int64(h.size)
	}
	return off
}

// peek reads up to peekSize bytes of the file at off.
func (s *scanned) peek(sr *io.SectionReader, off int64) ([]byte, error) {
	n := int(min(peekSize, sr.Size()-off))
	s.peekBuf = slices.Grow(s.peekBuf[:0], n)[:n]
	if _, err := sr.ReadAt(s.peekBuf, off); err != nil {
		return nil, fmt.Errorf("read at %d: %w", off, err)
	}
	return s.peekBuf, nil
}

// writeTables walks the fragments a second time, handing every track's
// table entries to its sink, and checks that this walk found what the
// first one did.
func (s *scanned) writeTables(r io.ReaderAt, sinks map[uint32]*tableWriters) error {
	first := s.tables
	s.newTables()
	for i, t := range s.tracks {
		if tw, ok := sinks[t.id]; ok {
			s.tables[i].sink = tw
		}
	}
	s.moofs = s.moofs[:0]
	end := s.walk(r, io.NewSectionReader(r, 0, s.end), s.reservedEnd)
	for i, tab := range s.tables {
		tab.close()
		if end != s.end || !tab.same(first[i]) {
			return errors.New("the fragments read differently on a second walk")
		}
	}
	for _, tw := range sinks {
		if err := tw.done(); err != nil {
			return err
		}
	}
	return nil
}
