package mp4

import (
	"fmt"
	"math"

	"github.com/kiroku-sfu/kiroku/mux"
)

const (
	movieTimescale = 1000
	videoTimescale = 90000
	opusSampleRate = 48000
)

// trackMeta is what both forms of moov need to know about a track.
type trackMeta struct {
	id        uint32
	kind      mux.Kind
	timescale uint32
	stsd      []byte // the complete stsd box
	entries   int    // sample entries in stsd
	// width and height are the largest of the visual sample entries.
	width, height uint16
}

// moovTrack is a track of a moov; tables is nil in the init moov.
type moovTrack struct {
	meta   trackMeta
	tables *sampleTables
}

// buildInitMoov returns the moov written while recording: every track and
// sample entry, empty sample tables and mvex announcing fragments.
func buildInitMoov(tracks []trackMeta) ([]byte, error) {
	mt := make([]moovTrack, len(tracks))
	for i, t := range tracks {
		mt[i] = moovTrack{meta: t}
	}
	return buildMoov(mt, false)
}

// buildMoov returns the fragmented init moov of tracks without tables.
func buildMoov(tracks []moovTrack, force64 bool) ([]byte, error) {
	b := newBoxBuf()
	writeMoov(b, tracks, force64)
	out, err := b.bytes()
	if err != nil {
		return nil, fmt.Errorf("build moov: %w", err)
	}
	return out, nil
}

// writeMoov writes moov; with every track's tables present it is the
// finished, progressive moov (whose table entries are holes), otherwise
// the fragmented init moov.
func writeMoov(b *boxBuf, tracks []moovTrack, force64 bool) {
	b.start(typeMoov)
	var dur uint64
	var lastID uint32
	for _, t := range tracks {
		dur = max(dur, t.movieDuration())
		lastID = max(lastID, t.meta.id)
	}
	writeMvhd(b, dur, lastID+1)
	for _, t := range tracks {
		writeTrak(b, t, force64)
	}
	if len(tracks) > 0 && tracks[0].tables == nil {
		b.start(typeMvex)
		for _, t := range tracks {
			writeTrex(b, t.meta.id)
		}
		b.end()
	}
	b.end()
}

// edit is an entry of an edit list, in movie ticks; mediaTime -1 is an
// empty edit.
type edit struct {
	duration  uint64
	mediaTime int64
}

// edits returns the track's edit list: an empty edit for a late start,
// then the media.
func (t moovTrack) edits() []edit {
	if t.tables == nil {
		return nil
	}
	ts := t.meta.timescale
	media := edit{duration: rescale(t.tables.mediaDur, ts, movieTimescale)}
	if t.tables.firstStart <= 0 {
		return []edit{media}
	}
	empty := edit{duration: rescale(uint64(t.tables.firstStart), ts, movieTimescale), mediaTime: -1}
	return []edit{empty, media}
}

// movieDuration is the track's length in movie ticks, including the empty edit.
func (t moovTrack) movieDuration() uint64 {
	var d uint64
	for _, e := range t.edits() {
		d += e.duration
	}
	return d
}

func writeTrak(b *boxBuf, t moovTrack, force64 bool) {
	b.start(typeTrak)
	writeTkhd(b, t)
	writeEdts(b, t.edits())
	b.start(typeMdia)
	var mediaDur uint64
	if t.tables != nil {
		mediaDur = t.tables.mediaDur
	}
	writeMdhd(b, t.meta.timescale, mediaDur)
	writeHdlr(b, t.meta.kind)
	writeMinf(b, t, force64)
	b.end()
	b.end()
}

func writeEdts(b *boxBuf, entries []edit) {
	if len(entries) == 0 {
		return
	}
	b.start(typeEdts)
	writeElst(b, entries)
	b.end()
}

func writeMinf(b *boxBuf, t moovTrack, force64 bool) {
	b.start(typeMinf)
	writeMediaHeader(b, t.meta.kind)
	writeDinf(b)
	b.start(typeStbl)
	b.append(t.meta.stsd)
	writeSampleTables(b, t, force64)
	b.end()
	b.end()
}

// fits32 reports whether every value fits a version 0 box's 32-bit field.
func fits32(vs ...uint64) bool {
	for _, v := range vs {
		if v > math.MaxUint32 {
			return false
		}
	}
	return true
}
