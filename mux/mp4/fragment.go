package mp4

import (
	"encoding/binary"
	"fmt"
)

// Sample flags (ISO/IEC 14496-12 §8.8.3.1): a sync sample depends on no
// other; any other sample depends on earlier ones and is not a sync sample.
const (
	flagsSync    = 0x02000000
	flagsNonSync = 0x01010000
)

// trun flags (§8.8.8). This package writes trunWritten: a data offset,
// then per-sample duration, size and flags; it reads the others too.
const (
	trunDataOffset     = 0x000001
	trunFirstFlags     = 0x000004
	trunSampleDuration = 0x000100
	trunSampleSize     = 0x000200
	trunSampleFlags    = 0x000400
	trunSampleCTO      = 0x000800
	trunWritten        = trunDataOffset | trunSampleDuration | trunSampleSize | trunSampleFlags
)

// tfhd flags (§8.8.7). This package writes tfhdDefaultBaseIsMoof and
// tfhdSampleDescriptionIndexPresent.
const (
	tfhdBaseDataOffsetPresent         = 0x000001
	tfhdSampleDescriptionIndexPresent = 0x000002
	tfhdDefaultSampleDurationPresent  = 0x000008
	tfhdDefaultSampleSizePresent      = 0x000010
	tfhdDefaultSampleFlagsPresent     = 0x000020
	tfhdDefaultBaseIsMoof             = 0x020000
)

// fragmentTrack is one track's contribution to a fragment; lastDur is the
// duration of its last sample, which the next sample's time cannot tell yet.
type fragmentTrack struct {
	id      uint32
	track   int // index in the Writer's tracks
	p       *pending
	lastDur uint32
}

// fragmenter turns pending samples into moof+mdat bytes, reusing its
// buffers so that a steady recording allocates almost nothing.
type fragmenter struct {
	box      *boxBuf
	seq      uint32
	truns    []int    // offsets of the trun boxes in box, to patch data_offset
	dataOffs []uint64 // each track's data offset from the moof, as patched
	scratch  []byte   // a box payload being encoded
}

func newFragmenter() *fragmenter { return &fragmenter{box: newBoxBuf()} }

// build returns a complete moof+mdat for tracks (each with samples, in
// file order), assembled in place in carrier's buffer, the first track's:
// the other tracks' data is appended after carrier's and the moof and mdat
// header go into its headroom, so the fragment's media is not copied into
// a second buffer. The slice is valid until carrier is reset.
func (f *fragmenter) build(tracks []fragmentTrack, carrier *pending) ([]byte, error) {
	hdr, err := f.header(tracks)
	if err != nil {
		return nil, err
	}
	for _, t := range tracks {
		if t.p != carrier {
			carrier.buf = append(carrier.buf, t.p.data()...)
		}
	}
	carrier.ensureRoom(len(hdr))
	start := carrier.room - len(hdr)
	copy(carrier.buf[start:], hdr)
	return carrier.buf[start:], nil
}

// header returns the moof and mdat header for tracks.
func (f *fragmenter) header(tracks []fragmentTrack) ([]byte, error) {
	f.seq++
	f.box.reset()
	f.truns = f.truns[:0]
	f.box.start(typeMoof)
	f.payload(typeMfhd, appendMfhd(f.scratch[:0], f.seq))
	var payload uint64
	for _, t := range tracks {
		f.writeTraf(t)
		payload += uint64(len(t.p.data()))
	}
	f.box.end()
	moof, err := f.box.bytes()
	if err != nil {
		return nil, fmt.Errorf("build moof: %w", err)
	}
	mdatSize := payload + smallHeaderSize
	if headerSizeFor(mdatSize) == largeHeaderSize {
		mdatSize = payload + largeHeaderSize
	}
	dataOff := uint64(len(moof)) + headerSizeFor(mdatSize)
	f.dataOffs = f.dataOffs[:0]
	for i, t := range tracks {
		// data_offset follows the trun header, version/flags and sample_count.
		binary.BigEndian.PutUint32(moof[f.truns[i]+16:], uint32(dataOff))
		f.dataOffs = append(f.dataOffs, dataOff)
		dataOff += uint64(len(t.p.data()))
	}
	f.box.header(typeMdat, mdatSize)
	return f.box.bytes()
}

func (f *fragmenter) writeTraf(t fragmentTrack) {
	p := t.p
	f.box.start(typeTraf)
	f.payload(typeTfhd, appendTfhd(f.scratch[:0], t.id, p.sdi))
	f.payload(typeTfdt, appendTfdt(f.scratch[:0], uint64(p.samples[0].start)))
	f.truns = append(f.truns, f.box.offset())
	f.payload(typeTrun, appendTrun(f.scratch[:0], p.samples, t.lastDur))
	f.box.end()
}

// payload writes a box of type typ around an encoded payload and keeps the
// payload's buffer for reuse.
func (f *fragmenter) payload(typ boxType, b []byte) {
	f.box.start(typ)
	f.box.append(b)
	f.box.end()
	f.scratch = b
}

// The payloads of the boxes written once per fragment are encoded here
// rather than with gomp4.Marshal: its reflection costs several allocations
// per field (per sample in trun), which the WriteFrame benchmark showed
// dominating. Finishing reads them back with this package's parser; tests
// also read them with go-mp4 and decode the fragmented file with ffmpeg,
// so both sides are checked independently.

// appendFullBox appends a FullBox version and flags.
func appendFullBox(b []byte, version uint8, flags uint32) []byte {
	return binary.BigEndian.AppendUint32(b, uint32(version)<<24|flags&0xffffff)
}

// appendMfhd appends an mfhd payload.
func appendMfhd(b []byte, seq uint32) []byte {
	return binary.BigEndian.AppendUint32(appendFullBox(b, 0, 0), seq)
}

// appendTfhd appends a tfhd payload: data offsets from the moof and the
// sample description index.
func appendTfhd(b []byte, trackID, sdi uint32) []byte {
	b = appendFullBox(b, 0, tfhdDefaultBaseIsMoof|tfhdSampleDescriptionIndexPresent)
	b = binary.BigEndian.AppendUint32(b, trackID)
	return binary.BigEndian.AppendUint32(b, sdi)
}

// appendTfdt appends a version 1 tfdt payload.
func appendTfdt(b []byte, baseTime uint64) []byte {
	return binary.BigEndian.AppendUint64(appendFullBox(b, 1, 0), baseTime)
}

// appendTrun appends a trun payload (version 0, flags trunWritten, a
// data_offset to patch, then duration, size and flags per sample).
func appendTrun(b []byte, samples []pendingSample, lastDur uint32) []byte {
	b = appendFullBox(b, 0, trunWritten)
	b = binary.BigEndian.AppendUint32(b, uint32(len(samples)))
	b = binary.BigEndian.AppendUint32(b, 0) // data_offset, patched by build
	for i, s := range samples {
		dur := lastDur
		if i+1 < len(samples) {
			dur = uint32(samples[i+1].start - s.start)
		}
		flags := uint32(flagsNonSync)
		if s.sync {
			flags = flagsSync
		}
		b = binary.BigEndian.AppendUint32(b, dur)
		b = binary.BigEndian.AppendUint32(b, s.size)
		b = binary.BigEndian.AppendUint32(b, flags)
	}
	return b
}
