package mp4

import (
	"fmt"
	"io"
	"slices"
)

// fragment reads the moof at moofOff with header h and its mdat, checks
// that every sample lies inside the mdat, and adds the samples to the
// tables. peek holds the file's bytes from moofOff on, as far as the walk
// read them; when they hold the moof and the mdat header, nothing more is
// read. It returns the end of the mdat.
func (s *scanned) fragment(r io.ReaderAt, sr *io.SectionReader, moofOff int64, h boxHead, peek []byte) (int64, error) {
	if h.size > maxMoofBytes {
		return 0, fmt.Errorf("fragment at %d: moof of %d bytes", moofOff, h.size)
	}
	left := uint64(sr.Size() - moofOff)
	moof := peek
	if want := min(h.size+largeHeaderSize, left); uint64(len(moof)) < want {
		s.moofBuf = slices.Grow(s.moofBuf[:0], int(want))[:want]
		if _, err := r.ReadAt(s.moofBuf, moofOff); err != nil {
			return 0, fmt.Errorf("read moof at %d: %w", moofOff, err)
		}
		moof = s.moofBuf
	}
	mdatOff := moofOff + int64(h.size)
	mdat, err := parseBoxHead(moof[h.size:], left-h.size)
	if err != nil {
		return 0, fmt.Errorf("fragment at %d: mdat: %w", moofOff, err)
	}
	if mdat.typ != typeMdat {
		return 0, fmt.Errorf("fragment at %d: moof without mdat", moofOff)
	}
	trafs, err := s.moofParser.parse(moof[:h.size])
	if err != nil {
		return 0, fmt.Errorf("fragment at %d: %w", moofOff, err)
	}
	lo := mdatOff + int64(mdat.hdr)
	hi := mdatOff + int64(mdat.size)
	if err := s.checkTrafs(trafs, moofOff, lo, hi); err != nil {
		return 0, fmt.Errorf("fragment at %d: %w", moofOff, err)
	}
	for _, tr := range trafs {
		s.apply(tr, moofOff)
	}
	s.moofs = append(s.moofs, moofOff)
	return hi, nil
}

// trackIndex returns the index of the track with id, or -1.
func (s *scanned) trackIndex(id uint32) int {
	for i, t := range s.tracks {
		if t.id == id {
			return i
		}
	}
	return -1
}

// checkTrafs verifies that each traf names a known track and sample entry
// and that its samples lie inside the mdat payload [lo, hi).
func (s *scanned) checkTrafs(trafs []traf, moofOff, lo, hi int64) error {
	for _, tr := range trafs {
		i := s.trackIndex(tr.trackID)
		if i < 0 {
			return fmt.Errorf("traf for unknown track %d", tr.trackID)
		}
		if tr.sdi == 0 || int(tr.sdi) > s.tracks[i].entries {
			return fmt.Errorf("track %d: sample description %d of %d", tr.trackID, tr.sdi, s.tracks[i].entries)
		}
		for _, run := range tr.runs {
			start := moofOff + int64(run.dataOffset)
			if start < lo || start > hi || run.bytes > uint64(hi-start) {
				return fmt.Errorf("track %d: samples outside mdat", tr.trackID)
			}
		}
	}
	return nil
}

// skipFragment passes over a fragment whose moof is damaged but whose moof
// and mdat boxes are sound, so the fragments after it are kept. Its moof
// will become a free box, its mdat unreferenced; every track must restart
// at a sync sample so that no frame refers to a lost one.
func (s *scanned) skipFragment(sr *io.SectionReader, moofOff int64, h boxHead) (int64, error) {
	mdat, err := readHeader(sr, moofOff+int64(h.size))
	if err != nil {
		return 0, err
	}
	if mdat.typ != typeMdat {
		return 0, fmt.Errorf("fragment at %d: moof without mdat", moofOff)
	}
	s.moofs = append(s.moofs, moofOff)
	for _, tab := range s.tables {
		tab.needSync = true
	}
	return mdat.off + int64(mdat.size), nil
}

// apply adds a checked traf's samples to its track's tables, dropping
// samples up to the next sync sample after a skipped fragment.
func (s *scanned) apply(tr traf, moofOff int64) {
	tab := s.tables[s.trackIndex(tr.trackID)]
	t := int64(tr.baseTime)
	for _, run := range tr.runs {
		off := uint64(moofOff + int64(run.dataOffset))
		samples := run.samples
		for len(samples) > 0 && tab.needSync && !samples[0].sync {
			off += uint64(samples[0].size)
			t += int64(samples[0].duration)
			samples = samples[1:]
		}
		if len(samples) == 0 {
			continue
		}
		tab.needSync = false
		tab.addChunk(off, uint32(len(samples)), tr.sdi)
		for _, smp := range samples {
			tab.addSample(t, smp.duration, smp.size, smp.sync)
			t += int64(smp.duration)
		}
	}
}
