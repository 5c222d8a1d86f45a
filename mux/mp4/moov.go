package mp4

import (
	"fmt"
	"math"

	gomp4 "github.com/abema/go-mp4"

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

// identity is the unity transformation matrix of mvhd and tkhd.
var identity = [9]int32{0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000}

// buildInitMoov returns the moov written while recording: every track and
// sample entry, empty sample tables and mvex announcing fragments.
func buildInitMoov(tracks []trackMeta) ([]byte, error) {
	mt := make([]moovTrack, len(tracks))
	for i, t := range tracks {
		mt[i] = moovTrack{meta: t}
	}
	return buildMoov(mt, false)
}

// buildMoov writes moov; with every track's tables present it is the
// finished, progressive moov, otherwise the fragmented init moov.
func buildMoov(tracks []moovTrack, force64 bool) ([]byte, error) {
	b := newBoxBuf()
	b.start(gomp4.BoxTypeMoov())
	var dur uint64
	var lastID uint32
	for _, t := range tracks {
		dur = max(dur, t.movieDuration())
		lastID = max(lastID, t.meta.id)
	}
	mvhd := &gomp4.Mvhd{Timescale: movieTimescale, Rate: 0x00010000, Volume: 0x0100,
		Matrix: identity, NextTrackID: lastID + 1}
	setMvhdDuration(mvhd, dur)
	b.leaf(mvhd)
	for _, t := range tracks {
		writeTrak(b, t, force64)
	}
	if len(tracks) > 0 && tracks[0].tables == nil {
		b.start(gomp4.BoxTypeMvex())
		for _, t := range tracks {
			b.leaf(&gomp4.Trex{TrackID: t.meta.id, DefaultSampleDescriptionIndex: 1})
		}
		b.end()
	}
	b.end()
	out, err := b.bytes()
	if err != nil {
		return nil, fmt.Errorf("build moov: %w", err)
	}
	return out, nil
}

// edits returns the track's edit list in movie ticks: an empty edit for a
// late start, then the media.
func (t moovTrack) edits() []gomp4.ElstEntry {
	if t.tables == nil {
		return nil
	}
	ts := t.meta.timescale
	media := gomp4.ElstEntry{SegmentDurationV1: rescale(t.tables.mediaDur, ts, movieTimescale), MediaRateInteger: 1}
	if t.tables.firstStart <= 0 {
		return []gomp4.ElstEntry{media}
	}
	empty := gomp4.ElstEntry{SegmentDurationV1: rescale(uint64(t.tables.firstStart), ts, movieTimescale),
		MediaTimeV1: -1, MediaRateInteger: 1}
	return []gomp4.ElstEntry{empty, media}
}

// movieDuration is the track's length in movie ticks, including the empty edit.
func (t moovTrack) movieDuration() uint64 {
	var d uint64
	for _, e := range t.edits() {
		d += e.SegmentDurationV1
	}
	return d
}

func writeTrak(b *boxBuf, t moovTrack, force64 bool) {
	b.start(gomp4.BoxTypeTrak())
	tkhd := &gomp4.Tkhd{TrackID: t.meta.id, Matrix: identity,
		Width: uint32(t.meta.width) << 16, Height: uint32(t.meta.height) << 16}
	tkhd.SetFlags(0x000003) // enabled, in movie
	if t.meta.kind == mux.Audio {
		tkhd.Volume = 0x0100
	}
	if d := t.movieDuration(); d > math.MaxUint32 {
		tkhd.SetVersion(1)
		tkhd.DurationV1 = d
	} else {
		tkhd.DurationV0 = uint32(d)
	}
	b.leaf(tkhd)
	writeEdts(b, t.edits())
	b.start(gomp4.BoxTypeMdia())
	writeMdhd(b, t)
	hdlr := &gomp4.Hdlr{HandlerType: [4]byte{'v', 'i', 'd', 'e'}, Name: "VideoHandler"}
	if t.meta.kind == mux.Audio {
		hdlr.HandlerType, hdlr.Name = [4]byte{'s', 'o', 'u', 'n'}, "SoundHandler"
	}
	b.leaf(hdlr)
	writeMinf(b, t, force64)
	b.end()
	b.end()
}

func writeEdts(b *boxBuf, entries []gomp4.ElstEntry) {
	if len(entries) == 0 {
		return
	}
	elst := &gomp4.Elst{EntryCount: uint32(len(entries)), Entries: entries}
	elst.SetVersion(1)
	fits := true
	for _, e := range entries {
		fits = fits && e.SegmentDurationV1 <= math.MaxUint32
	}
	if fits {
		elst.SetVersion(0)
		for i := range entries {
			entries[i].SegmentDurationV0 = uint32(entries[i].SegmentDurationV1)
			entries[i].MediaTimeV0 = int32(entries[i].MediaTimeV1)
		}
	}
	b.start(gomp4.BoxTypeEdts())
	b.leaf(elst)
	b.end()
}

func writeMdhd(b *boxBuf, t moovTrack) {
	mdhd := &gomp4.Mdhd{Timescale: t.meta.timescale, Language: [3]byte{'u' - 0x60, 'n' - 0x60, 'd' - 0x60}}
	if t.tables != nil && t.tables.mediaDur > math.MaxUint32 {
		mdhd.SetVersion(1)
		mdhd.DurationV1 = t.tables.mediaDur
	} else if t.tables != nil {
		mdhd.DurationV0 = uint32(t.tables.mediaDur)
	}
	b.leaf(mdhd)
}

func writeMinf(b *boxBuf, t moovTrack, force64 bool) {
	b.start(gomp4.BoxTypeMinf())
	if t.meta.kind == mux.Audio {
		b.leaf(&gomp4.Smhd{})
	} else {
		vmhd := &gomp4.Vmhd{}
		vmhd.SetFlags(0x000001)
		b.leaf(vmhd)
	}
	b.start(gomp4.BoxTypeDinf())
	b.box(&gomp4.Dref{EntryCount: 1}, true)
	url := &gomp4.Url{}
	url.SetFlags(gomp4.UrlSelfContained)
	b.leaf(url)
	b.end()
	b.end()
	b.start(gomp4.BoxTypeStbl())
	b.append(t.meta.stsd)
	writeSampleTables(b, t, force64)
	b.end()
	b.end()
}

func setMvhdDuration(m *gomp4.Mvhd, d uint64) {
	if d > math.MaxUint32 {
		m.SetVersion(1)
		m.DurationV1 = d
		return
	}
	m.DurationV0 = uint32(d)
}
