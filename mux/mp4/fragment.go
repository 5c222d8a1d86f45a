package mp4

import (
	"encoding/binary"
	"fmt"

	gomp4 "github.com/abema/go-mp4"
)

// Sample flags (ISO/IEC 14496-12 §8.8.3.1): a sync sample depends on no
// other; any other sample depends on earlier ones and is not a sync sample.
const (
	flagsSync    = 0x02000000
	flagsNonSync = 0x01010000
)

// trun flags this package writes: data offset, then per-sample duration,
// size and flags.
const (
	trunDataOffset     = 0x000001
	trunFirstFlags     = 0x000004
	trunSampleDuration = 0x000100
	trunSampleSize     = 0x000200
	trunSampleFlags    = 0x000400
	trunSampleCTO      = 0x000800
	trunWritten        = trunDataOffset | trunSampleDuration | trunSampleSize | trunSampleFlags
)

// pendingSample is one sample of the fragment being collected.
type pendingSample struct {
	start int64 // decode time in track ticks
	size  uint32
	sync  bool
}

// pending holds one track's samples that are not yet on disk: their
// descriptions and their bytes, in order.
type pending struct {
	samples []pendingSample
	data    []byte
	sdi     uint32 // sample description index (1-based) of every sample
	entries []gomp4.TrunEntry
}

func (p *pending) reset() {
	p.samples = p.samples[:0]
	p.data = p.data[:0]
}

// fragmentTrack is one track's contribution to a fragment; lastDur is the
// duration of its last sample, which the next sample's time cannot tell yet.
type fragmentTrack struct {
	id      uint32
	p       *pending
	lastDur uint32
}

// fragmenter turns pending samples into moof+mdat bytes, reusing its
// buffers so that a steady recording allocates almost nothing.
type fragmenter struct {
	box   *boxBuf
	out   []byte
	seq   uint32
	truns []int // offsets of the trun boxes in box, to patch data_offset
}

func newFragmenter() *fragmenter { return &fragmenter{box: newBoxBuf()} }

// build returns a complete moof+mdat for tracks (those without samples are
// skipped). The slice is valid until the next call.
func (f *fragmenter) build(tracks []fragmentTrack) ([]byte, error) {
	f.seq++
	f.box.reset()
	f.truns = f.truns[:0]
	f.box.start(gomp4.BoxTypeMoof())
	f.box.leaf(&gomp4.Mfhd{SequenceNumber: f.seq})
	var payload uint64
	for _, t := range tracks {
		if len(t.p.samples) > 0 {
			f.writeTraf(t)
			payload += uint64(len(t.p.data))
		}
	}
	f.box.end()
	moof, err := f.box.bytes()
	if err != nil {
		return nil, fmt.Errorf("build moof: %w", err)
	}
	mdatSize := payload + gomp4.SmallHeaderSize
	if headerSizeFor(mdatSize) == gomp4.LargeHeaderSize {
		mdatSize = payload + gomp4.LargeHeaderSize
	}
	dataOff := uint64(len(moof)) + headerSizeFor(mdatSize)
	i := 0
	for _, t := range tracks {
		if len(t.p.samples) == 0 {
			continue
		}
		// data_offset follows the trun header, version/flags and sample_count.
		binary.BigEndian.PutUint32(moof[f.truns[i]+16:], uint32(dataOff))
		dataOff += uint64(len(t.p.data))
		i++
	}
	f.box.header(gomp4.BoxTypeMdat(), mdatSize)
	f.out = append(f.out[:0], f.box.buf.b...)
	for _, t := range tracks {
		f.out = append(f.out, t.p.data...)
	}
	return f.out, f.box.err
}

func (f *fragmenter) writeTraf(t fragmentTrack) {
	p := t.p
	f.box.start(gomp4.BoxTypeTraf())
	tfhd := &gomp4.Tfhd{TrackID: t.id, SampleDescriptionIndex: p.sdi}
	tfhd.SetFlags(gomp4.TfhdDefaultBaseIsMoof | gomp4.TfhdSampleDescriptionIndexPresent)
	f.box.leaf(tfhd)
	tfdt := &gomp4.Tfdt{BaseMediaDecodeTimeV1: uint64(p.samples[0].start)}
	tfdt.SetVersion(1)
	f.box.leaf(tfdt)
	p.entries = p.entries[:0]
	for i, s := range p.samples {
		dur := t.lastDur
		if i+1 < len(p.samples) {
			dur = uint32(p.samples[i+1].start - s.start)
		}
		flags := uint32(flagsNonSync)
		if s.sync {
			flags = flagsSync
		}
		p.entries = append(p.entries, gomp4.TrunEntry{SampleDuration: dur, SampleSize: s.size, SampleFlags: flags})
	}
	trun := &gomp4.Trun{SampleCount: uint32(len(p.entries)), Entries: p.entries}
	trun.SetFlags(trunWritten)
	f.truns = append(f.truns, f.box.offset())
	f.box.leaf(trun)
	f.box.end()
}
