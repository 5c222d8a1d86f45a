package mp4

import (
	"github.com/kiroku-sfu/kiroku/mux"
)

// The fixed boxes of ftyp and moov (ISO/IEC 14496-12 §4.3, §8.2–8.8) are
// encoded here rather than with gomp4.Marshal: a file builds a moov three
// times (on open, at its first keyframe, at Close), and Marshal's
// reflection made that a fifth of a 10 s file's cost (BenchmarkWholeFile).
// A test compares every box with go-mp4's encoding of the same values.
// Creation and modification times are 0 (unknown), as go-mp4 wrote them.

// writeFtyp writes ftyp: major brand isom, minor version 0x200, and the
// compatible brands isom, iso2, iso6 and mp41.
func writeFtyp(b *boxBuf) {
	b.start(typeFtyp)
	b.append([]byte("isom"))
	b.u32(0x200)
	b.append([]byte("isomiso2iso6mp41"))
	b.end()
}

// writeTimes writes creation and modification time (0), then the fields
// that follow them in mvhd, tkhd and mdhd: pre (timescale or track ID and
// a reserved word) and the duration, 64-bit in version 1.
func writeTimes(b *boxBuf, v1 bool, pre []uint32, dur uint64) {
	if v1 {
		b.u64(0)
		b.u64(0)
	} else {
		b.u32(0)
		b.u32(0)
	}
	for _, p := range pre {
		b.u32(p)
	}
	if v1 {
		b.u64(dur)
	} else {
		b.u32(uint32(dur))
	}
}

// writeMatrix writes the unity transformation matrix of mvhd and tkhd.
func writeMatrix(b *boxBuf) {
	for _, m := range [9]uint32{0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000} {
		b.u32(m)
	}
}

// writeMvhd writes mvhd in movie ticks.
func writeMvhd(b *boxBuf, dur uint64, nextTrackID uint32) {
	v1 := !fits32(dur)
	b.fullBox(typeMvhd, version(v1), 0)
	writeTimes(b, v1, []uint32{movieTimescale}, dur)
	b.u32(0x00010000)   // rate 1.0
	b.u32(0x0100 << 16) // volume 1.0, reserved
	b.u64(0)            // reserved
	writeMatrix(b)
	for range 6 {
		b.u32(0) // pre_defined
	}
	b.u32(nextTrackID)
	b.end()
}

// writeTkhd writes tkhd: enabled and in the movie.
func writeTkhd(b *boxBuf, t moovTrack) {
	dur := t.movieDuration()
	v1 := !fits32(dur)
	b.fullBox(typeTkhd, version(v1), 0x000003)
	writeTimes(b, v1, []uint32{t.meta.id, 0}, dur)
	b.u64(0) // reserved
	b.u32(0) // layer, alternate group
	var volume uint32
	if t.meta.kind == mux.Audio {
		volume = 0x0100
	}
	b.u32(volume << 16)
	writeMatrix(b)
	b.u32(uint32(t.meta.width) << 16)
	b.u32(uint32(t.meta.height) << 16)
	b.end()
}

// writeElst writes an edit list at normal rate.
func writeElst(b *boxBuf, entries []edit) {
	v1 := false
	for _, e := range entries {
		v1 = v1 || !fits32(e.duration)
	}
	b.fullBox(typeElst, version(v1), 0)
	b.u32(uint32(len(entries)))
	for _, e := range entries {
		if v1 {
			b.u64(e.duration)
			b.u64(uint64(e.mediaTime))
		} else {
			b.u32(uint32(e.duration))
			b.u32(uint32(int32(e.mediaTime)))
		}
		b.u32(1 << 16) // media_rate_integer 1, fraction 0
	}
	b.end()
}

// writeMdhd writes mdhd with language "und".
func writeMdhd(b *boxBuf, timescale uint32, dur uint64) {
	v1 := !fits32(dur)
	b.fullBox(typeMdhd, version(v1), 0)
	writeTimes(b, v1, []uint32{timescale}, dur)
	const und = ('u'-0x60)<<10 | ('n'-0x60)<<5 | ('d' - 0x60)
	b.u32(und << 16) // language, pre_defined
	b.end()
}

// writeHdlr writes hdlr for a video or sound track.
func writeHdlr(b *boxBuf, k mux.Kind) {
	typ, name := "vide", "VideoHandler"
	if k == mux.Audio {
		typ, name = "soun", "SoundHandler"
	}
	b.fullBox(typeHdlr, 0, 0)
	b.u32(0) // pre_defined
	b.append([]byte(typ))
	b.u32(0) // reserved
	b.u64(0)
	b.append(append([]byte(name), 0))
	b.end()
}

// writeMediaHeader writes vmhd (copy mode) or smhd (centre balance).
func writeMediaHeader(b *boxBuf, k mux.Kind) {
	if k == mux.Audio {
		b.fullBox(typeSmhd, 0, 0)
		b.u32(0) // balance, reserved
		b.end()
		return
	}
	b.fullBox(typeVmhd, 0, 0x000001)
	b.u64(0) // graphics mode, opcolor
	b.end()
}

// writeDinf writes dinf with one self-contained data reference.
func writeDinf(b *boxBuf) {
	b.start(typeDinf)
	b.fullBox(typeDref, 0, 0)
	b.u32(1)
	b.fullBox(typeUrl, 0, 1) // flags: self-contained
	b.end()
	b.end()
	b.end()
}

// writeTrex writes trex: sample entry 1 and no other defaults.
func writeTrex(b *boxBuf, trackID uint32) {
	b.fullBox(typeTrex, 0, 0)
	b.u32(trackID)
	b.u32(1)
	b.u32(0)
	b.u32(0)
	b.u32(0)
	b.end()
}

// version is a FullBox version: 1 for 64-bit times, else 0.
func version(v1 bool) uint8 {
	if v1 {
		return 1
	}
	return 0
}
