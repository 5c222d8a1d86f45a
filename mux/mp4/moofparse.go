package mp4

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"slices"
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
	tfhd         *tfhdFields
	runs         []run
}

// tfhdFields are the parts of a tfhd that reading samples needs.
type tfhdFields struct {
	flags           uint32
	defaultDuration uint32
	defaultFlags    uint32
}

// moofParser reads the trafs of one moof at a time, given whole. It keeps
// its slices between moofs, so that reading a file's fragments allocates
// little; what parse returns is valid until the next call.
type moofParser struct {
	trafs   []traf
	tfhds   [maxTracks]tfhdFields
	samples []trafSample
}

// parse returns the trafs of a moof box given whole (header included). It
// accepts only what this package writes: sample sizes in every trun, data
// offsets relative to the moof, and a tfhd and tfdt in every traf.
func (p *moofParser) parse(moof []byte) ([]traf, error) {
	p.trafs, p.samples = p.trafs[:0], p.samples[:0]
	h, err := parseBoxHead(moof, uint64(len(moof)))
	if err == nil && h.typ != typeMoof {
		err = fmt.Errorf("box %s is not a moof", h.typ)
	}
	if err == nil {
		err = eachBox(moof[h.hdr:h.size], p.moofChild)
	}
	if err != nil {
		return nil, fmt.Errorf("parse moof: %w", err)
	}
	for _, t := range p.trafs {
		if t.tfhd == nil || !t.hasTime {
			return nil, errors.New("parse moof: traf without tfhd or tfdt")
		}
	}
	return p.trafs, nil
}

func (p *moofParser) moofChild(h boxHead, payload []byte) error {
	if h.typ != typeTraf {
		return nil
	}
	if len(p.trafs) == maxTracks {
		return errors.New("too many trafs")
	}
	var runs []run // reuse the runs of the traf that held this place before
	if n := len(p.trafs); n < cap(p.trafs) {
		runs = p.trafs[:n+1][n].runs[:0]
	}
	p.trafs = append(p.trafs, traf{sdi: 1, runs: runs})
	return eachBox(payload, p.trafChild)
}

func (p *moofParser) trafChild(h boxHead, payload []byte) error {
	t := &p.trafs[len(p.trafs)-1]
	switch h.typ {
	case typeTfhd:
		return t.readTfhd(payload, &p.tfhds[len(p.trafs)-1])
	case typeTfdt:
		return t.readTfdt(payload)
	case typeTrun:
		return t.addRun(payload, &p.samples)
	}
	return nil
}

// readTfhd reads a tfhd payload (ISO/IEC 14496-12 §8.8.7) into f.
func (t *traf) readTfhd(b []byte, f *tfhdFields) error {
	if len(b) < 8 {
		return errors.New("tfhd: too short")
	}
	*f = tfhdFields{flags: binary.BigEndian.Uint32(b) & 0xffffff}
	if f.flags&tfhdDefaultBaseIsMoof == 0 || f.flags&tfhdBaseDataOffsetPresent != 0 {
		return errors.New("tfhd: data not addressed from the moof")
	}
	t.trackID, b = binary.BigEndian.Uint32(b[4:]), b[8:]
	for _, field := range []struct {
		flag uint32
		dst  *uint32
	}{
		{tfhdSampleDescriptionIndexPresent, &t.sdi},
		{tfhdDefaultSampleDurationPresent, &f.defaultDuration},
		{tfhdDefaultSampleSizePresent, nil},
		{tfhdDefaultSampleFlagsPresent, &f.defaultFlags},
	} {
		if f.flags&field.flag == 0 {
			continue
		}
		if len(b) < 4 {
			return errors.New("tfhd: too short")
		}
		if field.dst != nil {
			*field.dst = binary.BigEndian.Uint32(b)
		}
		b = b[4:]
	}
	t.tfhd = f
	return nil
}

// readTfdt reads a tfdt payload (§8.8.12), version 0 or 1.
func (t *traf) readTfdt(b []byte) error {
	switch {
	case len(b) >= 12 && b[0] == 1:
		t.baseTime = binary.BigEndian.Uint64(b[4:])
	case len(b) >= 8 && b[0] == 0:
		t.baseTime = uint64(binary.BigEndian.Uint32(b[4:]))
	default:
		return errors.New("tfdt: bad version or too short")
	}
	t.hasTime = true
	return nil
}

// addRun decodes a trun payload into a run of samples kept in *store.
// Decoding is done here rather than by go-mp4, whose reflection cost some
// 30 allocations per sample and made finishing a long file 25 times slower
// than reading it (BenchmarkRecover).
func (t *traf) addRun(payload []byte, store *[]trafSample) error {
	if t.tfhd == nil {
		return errors.New("trun before tfhd")
	}
	tr, err := decodeTrun(payload)
	if err != nil {
		return err
	}
	first := len(*store)
	*store = slices.Grow(*store, tr.count)
	r := run{dataOffset: tr.dataOffset}
	e := tr.entries
	for i := range tr.count {
		s := trafSample{duration: t.tfhd.defaultDuration, sync: t.defaultSync(i, tr)}
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
		*store = append(*store, s)
	}
	r.samples = (*store)[first:]
	t.runs = append(t.runs, r)
	return nil
}

// defaultSync is sample i's sync flag when the trun gives no per-sample
// flags: the first-sample flags, tfhd's default, or sync.
func (t *traf) defaultSync(i int, tr trunFields) bool {
	switch {
	case i == 0 && tr.flags&trunFirstFlags != 0:
		return isSync(tr.firstFlags)
	case t.tfhd.flags&tfhdDefaultSampleFlagsPresent != 0:
		return isSync(t.tfhd.defaultFlags)
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
