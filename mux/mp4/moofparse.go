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
		if err := p.precheckTrun(h.BoxInfo); err != nil {
			return nil, err
		}
		box, _, err := h.ReadPayload()
		if err != nil {
			return nil, err
		}
		return nil, t.addRun(box.(*gomp4.Trun))
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

// precheckTrun bounds a trun's sample count by its size before go-mp4
// allocates entries for it.
func (p *moofParser) precheckTrun(bi gomp4.BoxInfo) error {
	payload := p.moof[bi.Offset+bi.HeaderSize : bi.Offset+bi.Size]
	if len(payload) < 8 {
		return errors.New("trun: too short")
	}
	flags := binary.BigEndian.Uint32(payload) & 0xffffff
	if flags&trunDataOffset == 0 || flags&trunSampleSize == 0 {
		return errors.New("trun: no data offset or sample sizes")
	}
	entry := uint64(4 * bits.OnesCount32(flags&(trunSampleDuration|trunSampleSize|trunSampleFlags|trunSampleCTO)))
	if count := uint64(binary.BigEndian.Uint32(payload[4:])); count*entry > uint64(len(payload)) {
		return fmt.Errorf("trun: %d samples do not fit %d bytes", count, len(payload))
	}
	return nil
}

func (t *traf) addRun(trun *gomp4.Trun) error {
	if t.tfhd == nil {
		return errors.New("trun before tfhd")
	}
	flags := trun.GetFlags()
	r := run{dataOffset: trun.DataOffset, samples: make([]trafSample, len(trun.Entries))}
	for i, e := range trun.Entries {
		s := trafSample{size: e.SampleSize, duration: t.tfhd.DefaultSampleDuration, sync: true}
		if flags&trunSampleDuration != 0 {
			s.duration = e.SampleDuration
		}
		switch {
		case flags&trunSampleFlags != 0:
			s.sync = isSync(e.SampleFlags)
		case i == 0 && flags&trunFirstFlags != 0:
			s.sync = isSync(trun.FirstSampleFlags)
		case t.tfhd.CheckFlag(gomp4.TfhdDefaultSampleFlagsPresent):
			s.sync = isSync(t.tfhd.DefaultSampleFlags)
		}
		r.bytes += uint64(s.size)
		r.samples[i] = s
	}
	if r.dataOffset < 0 {
		return errors.New("trun: negative data offset")
	}
	t.runs = append(t.runs, r)
	return nil
}

// isSync reads sample_is_non_sync_sample from sample flags.
func isSync(flags uint32) bool { return flags&0x00010000 == 0 }
