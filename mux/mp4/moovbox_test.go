package mp4

import (
	"bytes"
	"encoding/binary"
	"math"
	"testing"

	gomp4 "github.com/abema/go-mp4"

	"github.com/kiroku-sfu/kiroku/mux"
)

// TestMoovBoxesMatchGoMP4 compares each hand-encoded box with go-mp4's
// encoding of the same values.
func TestMoovBoxesMatchGoMP4(t *testing.T) {
	video := moovTrack{meta: trackMeta{id: 1, kind: mux.Video, timescale: 90000, width: 1280, height: 720},
		tables: &sampleTables{mediaDur: 900000, firstStart: 9000}}
	audio := moovTrack{meta: trackMeta{id: 2, kind: mux.Audio, timescale: 48000}, tables: &sampleTables{mediaDur: 480000}}
	long := moovTrack{meta: trackMeta{id: 1, kind: mux.Video, timescale: 90000}, tables: &sampleTables{mediaDur: 1 << 50}}
	matrix := [9]int32{0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000}
	und := [3]byte{'u' - 0x60, 'n' - 0x60, 'd' - 0x60}
	tests := []struct {
		name string
		ours func(b *boxBuf)
		want []gomp4.IImmutableBox
	}{
		{"ftyp", writeFtyp, []gomp4.IImmutableBox{&gomp4.Ftyp{MajorBrand: gomp4.BrandISOM(), MinorVersion: 0x200,
			CompatibleBrands: []gomp4.CompatibleBrandElem{{CompatibleBrand: gomp4.BrandISOM()}, {CompatibleBrand: gomp4.BrandISO2()},
				{CompatibleBrand: [4]byte{'i', 's', 'o', '6'}}, {CompatibleBrand: [4]byte{'m', 'p', '4', '1'}}}}}},
		{"mvhd", func(b *boxBuf) { writeMvhd(b, 10010, 3) }, []gomp4.IImmutableBox{
			&gomp4.Mvhd{Timescale: 1000, DurationV0: 10010, Rate: 0x00010000, Volume: 0x0100, Matrix: matrix, NextTrackID: 3}}},
		{"mvhd v1", func(b *boxBuf) { writeMvhd(b, 1<<33, 2) }, []gomp4.IImmutableBox{
			v1(&gomp4.Mvhd{Timescale: 1000, DurationV1: 1 << 33, Rate: 0x00010000, Volume: 0x0100, Matrix: matrix, NextTrackID: 2})}},
		{"tkhd video", func(b *boxBuf) { writeTkhd(b, video) }, []gomp4.IImmutableBox{
			flags(&gomp4.Tkhd{TrackID: 1, DurationV0: 10100, Matrix: matrix, Width: 1280 << 16, Height: 720 << 16}, 3)}},
		{"tkhd audio v1", func(b *boxBuf) { writeTkhd(b, moovTrack{meta: audio.meta, tables: &sampleTables{mediaDur: 1 << 50}}) },
			[]gomp4.IImmutableBox{flags(v1(&gomp4.Tkhd{TrackID: 2, DurationV1: rescale(1<<50, 48000, 1000), Volume: 0x0100, Matrix: matrix}), 3)}},
		{"elst", func(b *boxBuf) { writeElst(b, video.edits()) }, []gomp4.IImmutableBox{&gomp4.Elst{EntryCount: 2,
			Entries: []gomp4.ElstEntry{{SegmentDurationV0: 100, MediaTimeV0: -1, MediaRateInteger: 1}, {SegmentDurationV0: 10000, MediaRateInteger: 1}}}}},
		{"elst v1", func(b *boxBuf) { writeElst(b, long.edits()) }, []gomp4.IImmutableBox{v1(&gomp4.Elst{EntryCount: 1,
			Entries: []gomp4.ElstEntry{{SegmentDurationV1: rescale(1<<50, 90000, 1000), MediaRateInteger: 1}}})}},
		{"mdhd", func(b *boxBuf) { writeMdhd(b, 48000, 480000) }, []gomp4.IImmutableBox{
			&gomp4.Mdhd{Timescale: 48000, DurationV0: 480000, Language: und}}},
		{"mdhd v1", func(b *boxBuf) { writeMdhd(b, 90000, math.MaxUint32+1) }, []gomp4.IImmutableBox{
			v1(&gomp4.Mdhd{Timescale: 90000, DurationV1: math.MaxUint32 + 1, Language: und})}},
		{"hdlr video", func(b *boxBuf) { writeHdlr(b, mux.Video) }, []gomp4.IImmutableBox{
			&gomp4.Hdlr{HandlerType: [4]byte{'v', 'i', 'd', 'e'}, Name: "VideoHandler"}}},
		{"hdlr audio", func(b *boxBuf) { writeHdlr(b, mux.Audio) }, []gomp4.IImmutableBox{
			&gomp4.Hdlr{HandlerType: [4]byte{'s', 'o', 'u', 'n'}, Name: "SoundHandler"}}},
		{"vmhd", func(b *boxBuf) { writeMediaHeader(b, mux.Video) }, []gomp4.IImmutableBox{flags(&gomp4.Vmhd{}, 1)}},
		{"smhd", func(b *boxBuf) { writeMediaHeader(b, mux.Audio) }, []gomp4.IImmutableBox{&gomp4.Smhd{}}},
		{"trex", func(b *boxBuf) { writeTrex(b, 2) }, []gomp4.IImmutableBox{&gomp4.Trex{TrackID: 2, DefaultSampleDescriptionIndex: 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, want := newBoxBuf(), newBoxBuf()
			tt.ours(got)
			for _, v := range tt.want {
				goMP4Leaf(want, v)
			}
			g, err := got.bytes()
			w, werr := want.bytes()
			if err != nil || werr != nil || !bytes.Equal(g, w) {
				t.Errorf("ours (%v):\n% x\ngo-mp4 (%v):\n% x", err, g, werr, w)
			}
		})
	}
}

// TestDinfMatchesGoMP4 compares dinf, a container, with go-mp4's.
func TestDinfMatchesGoMP4(t *testing.T) {
	got, want := newBoxBuf(), newBoxBuf()
	writeDinf(got)
	want.start(typeDinf)
	goMP4Box(want, &gomp4.Dref{EntryCount: 1}, true)
	goMP4Leaf(want, flags(&gomp4.Url{}, gomp4.UrlSelfContained))
	want.end()
	want.end()
	if !bytes.Equal(got.b, want.b) {
		t.Errorf("ours:\n% x\ngo-mp4:\n% x", got.b, want.b)
	}
}

type fullBox interface {
	gomp4.IImmutableBox
	SetVersion(uint8)
	SetFlags(uint32)
}

func v1[T fullBox](b T) T { b.SetVersion(1); return b }

func flags[T fullBox](b T, f uint32) T { b.SetFlags(f); return b }

// goMP4Box writes v, marshalled by go-mp4, as a box of b: the reference the
// hand encodings are compared with. Children may follow before b.end when
// open is true.
func goMP4Box(b *boxBuf, v gomp4.IImmutableBox, open bool) {
	typ := v.GetType()
	b.start(boxType(binary.BigEndian.Uint32(typ[:])))
	if b.err == nil {
		_, b.err = gomp4.Marshal(b, v, gomp4.Context{})
	}
	if !open {
		b.end()
	}
}

// goMP4Leaf writes v, marshalled by go-mp4, as a complete box of b.
func goMP4Leaf(b *boxBuf, v gomp4.IImmutableBox) { goMP4Box(b, v, false) }
