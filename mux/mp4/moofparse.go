package mp4

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"

	gomp4 "github.com/abema/go-mp4"
)

// trafSample is one sample as a fragment describes it.
type trafSample struct {
	duration, size uint32
	sync           bool
}

// run is one trun: samples stored back to back from dataOffset (relative
// to the moof).
type run struct {
	dataOffset int32
	bytes      uint64
	samples    []trafSample
}

// traf is one track's part of a fragment.
type traf struct {
	trackID, sdi uint32
	baseTime     uint64
	hasTime      bool
	tfhd         *gomp4.Tfhd
	runs         []run
}

// moofParser reads the trafs of one moof, given whole.
type moofParser struct {
	moof  []byte
	trafs []traf
}

// parseMoof returns the trafs of a moof box given whole (header included).
// It accepts only what this package writes: sample sizes in every trun,
// data offsets relative to the moof, and a tfdt in every traf.
func parseMoof(moof []byte) ([]traf, error) {
	p := &moofParser{moof: moof}
	if _, err := gomp4.ReadBoxStructure(bytes.NewReader(moof), p.handle); err != nil {
		return nil, fmt.Errorf("parse moof: %w", err)
	}
	for _, t := range p.trafs {
		if t.tfhd == nil || !t.hasTime {
			return nil, errors.New("parse moof: traf without tfhd or tfdt")
		}
	}
	return p.trafs, nil
}

func (p *moofParser) handle(h *gomp4.ReadHandle) (any, error) {
	if bi := h.BoxInfo; bi.Size < bi.HeaderSize || bi.Offset+bi.Size > uint64(len(p.moof)) {
		return nil, fmt.Errorf("box %s overruns the moof", bi.Type)
	}
	typ := h.BoxInfo.Type
	switch {
	case typ == gomp4.BoxTypeMoof() && len(h.Path) == 1:
		return h.Expand()
	case typ == gomp4.BoxTypeTraf() && len(h.Path) == 2:
		p.trafs = append(p.trafs, traf{sdi: 1})
		return h.Expand()
	case len(h.Path) != 3 || len(p.trafs) == 0:
		return nil, nil
	}
	t := &p.trafs[len(p.trafs)-1]
	switch typ {
	case gomp4.BoxTypeTfhd():
		return nil, t.readTfhd(h)
	case gomp4.BoxTypeTfdt():
		box, _, err := h.ReadPayload()
		if err != nil {
			return nil, err
		}
		t.baseTime, t.hasTime = box.(*gomp4.Tfdt).GetBaseMediaDecodeTime(), true
	case gomp4.BoxTypeTrun():
		bi := h.BoxInfo
		return nil, t.addRun(p.moof[bi.Offset+bi.HeaderSize : bi.Offset+bi.Size])
	}
	return nil, nil
}

func (t *traf) readTfhd(h *gomp4.ReadHandle) error {
	box, _, err := h.ReadPayload()
	if err != nil {
		return err
	}
	tfhd := box.(*gomp4.Tfhd)
	if !tfhd.CheckFlag(gomp4.TfhdDefaultBaseIsMoof) || tfhd.CheckFlag(gomp4.TfhdBaseDataOffsetPresent) {
		return errors.New("tfhd: data not addressed from the moof")
	}
	t.tfhd, t.trackID = tfhd, tfhd.TrackID
	if tfhd.CheckFlag(gomp4.TfhdSampleDescriptionIndexPresent) {
		t.sdi = tfhd.SampleDescriptionIndex
	}
	return nil
}

// addRun decodes a trun payload into a run of samples. Decoding is done
// here rather than by go-mp4, whose reflection cost some 30 allocations per
// sample and made finishing a long file 25 times slower than reading it
// (BenchmarkRecover).
func (t *traf) addRun(payload []byte) error {
	if t.tfhd == nil {
		return errors.New("trun before tfhd")
	}
	tr, err := decodeTrun(payload)
	if err != nil {
		return err
	}
	r := run{dataOffset: tr.dataOffset, samples: make([]trafSample, tr.count)}
	e := tr.entries
	for i := range r.samples {
		s := trafSample{duration: t.tfhd.DefaultSampleDuration, sync: t.defaultSync(i, tr)}
		if tr.flags&trunSampleDuration != 0 {
			s.duration, e = binary.BigEndian.Uint32(e), e[4:]
		}
		s.size, e = binary.BigEndian.Uint32(e), e[4:]
		if tr.flags&trunSampleFlags != 0 {
			s.sync, e = isSync(binary.BigEndian.Uint32(e)), e[4:]
		}
		if tr.flags&trunSampleCTO != 0 {
			e = e[4:]
		}
		r.bytes += uint64(s.size)
		r.samples[i] = s
	}
	t.runs = append(t.runs, r)
	return nil
}

// defaultSync is sample i's sync flag when the trun gives no per-sample
// flags: the first-sample flags, tfhd's default, or sync.
func (t *traf) defaultSync(i int, tr trunFields) bool {
	switch {
	case i == 0 && tr.flags&trunFirstFlags != 0:
		return isSync(tr.firstFlags)
	case t.tfhd.CheckFlag(gomp4.TfhdDefaultSampleFlagsPresent):
		return isSync(t.tfhd.DefaultSampleFlags)
	}
	return true
}

// trunFields is the fixed part of a trun and its entries, undecoded.
type trunFields struct {
	flags      uint32
	count      int
	dataOffset int32
	firstFlags uint32
	entries    []byte
}

// decodeTrun reads a trun payload (ISO/IEC 14496-12 §8.8.8). It accepts
// only runs with a data offset and per-sample sizes, as this package
// writes, and bounds the sample count by the payload's size.
func decodeTrun(p []byte) (trunFields, error) {
	if len(p) < 8 {
		return trunFields{}, errors.New("trun: too short")
	}
	tr := trunFields{flags: binary.BigEndian.Uint32(p) & 0xffffff}
	if tr.flags&trunDataOffset == 0 || tr.flags&trunSampleSize == 0 {
		return trunFields{}, errors.New("trun: no data offset or sample sizes")
	}
	count := uint64(binary.BigEndian.Uint32(p[4:]))
	rest := p[8:]
	if len(rest) < 4 {
		return trunFields{}, errors.New("trun: too short")
	}
	tr.dataOffset, rest = int32(binary.BigEndian.Uint32(rest)), rest[4:]
	if tr.flags&trunFirstFlags != 0 {
		if len(rest) < 4 {
			return trunFields{}, errors.New("trun: too short")
		}
		tr.firstFlags, rest = binary.BigEndian.Uint32(rest), rest[4:]
	}
	entry := uint64(4 * bits.OnesCount32(tr.flags&(trunSampleDuration|trunSampleSize|trunSampleFlags|trunSampleCTO)))
	if count*entry > uint64(len(rest)) {
		return trunFields{}, fmt.Errorf("trun: %d samples do not fit %d bytes", count, len(rest))
	}
	if tr.dataOffset < 0 {
		return trunFields{}, errors.New("trun: negative data offset")
	}
	tr.count, tr.entries = int(count), rest[:count*entry]
	return tr, nil
}

// isSync reads sample_is_non_sync_sample from sample flags.
func isSync(flags uint32) bool { return flags&0x00010000 == 0 }
