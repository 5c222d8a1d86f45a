package mp4

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/kiroku-sfu/kiroku/mux"
)

// ErrNoSamples reports a recording without a single complete sample; there
// is nothing to finish it into.
var ErrNoSamples = errors.New("mp4: no samples")

// finish turns a scanned recording whose fragments end at s.end into a
// progressive MP4 (see the package documentation for the order of writes
// and why each step leaves a recoverable file). The moov is planned from
// the scan's counts, and its table entries are written into place by a
// second walk of the fragments (r reads them), so no table is held in
// memory: a moov that fits the reserved region is assembled in a buffer of
// at most that region's size and written at once; a larger one is written
// straight after the last fragment, its own bytes (header first) before
// its tables.
func finish(f io.WriterAt, r io.ReaderAt, s *scanned, force64 bool) (mux.FileStats, error) {
	tracks := s.finishedTracks()
	if len(tracks) == 0 {
		return mux.FileStats{}, ErrNoSamples
	}
	plan, err := planMoov(tracks, force64)
	if err != nil {
		return mux.FileStats{}, err
	}
	size := s.end
	reserved := s.reservedEnd - s.moovOff
	inPlace := plan.size == reserved || plan.size+smallHeaderSize <= reserved
	var dst io.WriterAt = f
	base := s.end
	var mem memWriterAt
	if inPlace {
		mem = make(memWriterAt, plan.size, reserved)
		dst, base = mem, 0
	}
	if err := plan.writeFixed(dst, base); err != nil {
		return mux.FileStats{}, fmt.Errorf("finish: %w", err)
	}
	if err := s.writeTables(r, plan.sinks(tracks, dst, base, force64)); err != nil {
		return mux.FileStats{}, fmt.Errorf("finish: %w", err)
	}
	if inPlace {
		err = writeAt(f, append(mem, freeHeader(reserved-plan.size)...), s.moovOff)
	} else {
		size += plan.size
		err = writeAt(f, freeHeader(reserved), s.moovOff)
	}
	if err != nil {
		return mux.FileStats{}, fmt.Errorf("finish: write moov: %w", err)
	}
	if err := freeMoofs(f, s.moofs); err != nil {
		return mux.FileStats{}, err
	}
	return stats(tracks, size), nil
}

// finishedTracks pairs each track that has samples with its closed tables.
func (s *scanned) finishedTracks() []moovTrack {
	var out []moovTrack
	for i, t := range s.tracks {
		if s.tables[i].count == 0 {
			continue
		}
		s.tables[i].close()
		out = append(out, moovTrack{meta: t, tables: s.tables[i]})
	}
	return out
}

// freeMoofs turns every moof into a free box by rewriting its type, so the
// fragments' media data becomes plain mdat boxes.
func freeMoofs(f io.WriterAt, moofs []int64) error {
	free := binary.BigEndian.AppendUint32(nil, uint32(typeFree))
	for _, off := range moofs {
		if err := writeAt(f, free, off+4); err != nil {
			return fmt.Errorf("finish: free moof at %d: %w", off, err)
		}
	}
	return nil
}

// freeHeader returns the header of a free box of size bytes (none for 0).
func freeHeader(size int64) []byte {
	if size == 0 {
		return nil
	}
	b := newBoxBuf()
	b.header(typeFree, uint64(size))
	return b.b
}

func writeAt(f io.WriterAt, p []byte, off int64) error {
	_, err := f.WriteAt(p, off)
	return err
}

// stats summarises the finished tracks of a file of size bytes.
func stats(tracks []moovTrack, size int64) mux.FileStats {
	st := mux.FileStats{Bytes: size}
	for _, t := range tracks {
		end := ticksToDuration(uint64(t.tables.firstStart)+t.tables.mediaDur, t.meta.timescale)
		st.Duration = max(st.Duration, end)
		if t.meta.kind == mux.Audio {
			st.AudioFrames += int(t.tables.count)
			continue
		}
		st.VideoFrames += int(t.tables.count)
		st.Keyframes += int(t.tables.n.stss)
		st.Width, st.Height = int(t.meta.width), int(t.meta.height)
		st.ConfigChanges += max(t.meta.entries-1, 0)
	}
	return st
}
