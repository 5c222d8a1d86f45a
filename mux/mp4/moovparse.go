package mp4

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/kiroku-sfu/kiroku/mux"
)

// maxTracks is the most tracks a kiroku file has: one video, one audio.
const maxTracks = 2

// moovParser reads the track descriptions back from an init moov.
type moovParser struct {
	moov       []byte
	tracks     []trackMeta
	fragmented bool // mvex present: the file is still in its recording form

	// What a finished moov says, for Recover's report on a finished file.
	counts   []sampleCounts // per track
	duration time.Duration  // mvhd
}

// sampleCounts are a finished track's sample and sync sample counts.
type sampleCounts struct{ samples, syncs int }

// parseMoov parses a moov box given whole (header included). It reads the
// boxes by hand, like the rest of the package, bounds-checking every field.
func parseMoov(moov []byte) (*moovParser, error) {
	p := &moovParser{moov: moov}
	h, err := parseBoxHead(moov, uint64(len(moov)))
	if err == nil && h.typ != typeMoov {
		err = fmt.Errorf("box %s is not a moov", h.typ)
	}
	if err == nil {
		err = eachWholeBox(moov[h.hdr:h.size], p.moovChild)
	}
	if err == nil {
		err = p.validate()
	}
	if err != nil {
		return nil, fmt.Errorf("parse moov: %w", err)
	}
	return p, nil
}

// eachWholeBox calls fn with every box that b, a container's payload,
// holds, header included.
func eachWholeBox(b []byte, fn func(h boxHead, box []byte) error) error {
	for len(b) > 0 {
		h, err := parseBoxHead(b, uint64(len(b)))
		if err != nil {
			return err
		}
		if err := fn(h, b[:h.size]); err != nil {
			return err
		}
		b = b[h.size:]
	}
	return nil
}

func (p *moovParser) moovChild(h boxHead, box []byte) error {
	switch h.typ {
	case typeMvex:
		p.fragmented = true
	case typeMvhd:
		return p.mvhd(box[h.hdr:])
	case typeTrak:
		if len(p.tracks) == maxTracks {
			return errors.New("too many tracks")
		}
		p.tracks = append(p.tracks, trackMeta{})
		p.counts = append(p.counts, sampleCounts{})
		return eachWholeBox(box[h.hdr:], p.trackChild)
	}
	return nil
}

// trackChild reads a box of a trak, descending into mdia, minf and stbl.
func (p *moovParser) trackChild(h boxHead, box []byte) error {
	t := &p.tracks[len(p.tracks)-1]
	payload := box[h.hdr:]
	switch h.typ {
	case typeMdia, typeMinf, typeStbl:
		return eachWholeBox(payload, p.trackChild)
	case typeTkhd:
		id, err := fieldAfterTimes(payload, 0)
		t.id = id
		return err
	case typeMdhd:
		ts, err := fieldAfterTimes(payload, 0)
		t.timescale = ts
		return err
	case typeHdlr:
		return t.handler(payload)
	case typeStsd:
		return t.readStsd(box, payload)
	case typeStsz, typeStss:
		p.count(h.typ, payload, &p.counts[len(p.counts)-1])
	}
	return nil
}

// fieldAfterTimes reads the 32-bit field at skip bytes after the creation
// and modification times of an mvhd, tkhd or mdhd payload (their size
// depends on the FullBox version).
func fieldAfterTimes(payload []byte, skip int) (uint32, error) {
	off := 12 + skip // version and flags, two 32-bit times
	if len(payload) > 0 && payload[0] == 1 {
		off = 20 + skip
	}
	if len(payload) < off+4 {
		return 0, errors.New("box too short for its fields")
	}
	return binary.BigEndian.Uint32(payload[off:]), nil
}

// handler sets the track's kind from an hdlr payload.
func (t *trackMeta) handler(payload []byte) error {
	if len(payload) < 12 {
		return errors.New("hdlr too short")
	}
	switch boxType(binary.BigEndian.Uint32(payload[8:12])) {
	case 'v'<<24 | 'i'<<16 | 'd'<<8 | 'e':
		t.kind = mux.Video
	case 's'<<24 | 'o'<<16 | 'u'<<8 | 'n':
		t.kind = mux.Audio
	}
	return nil
}

// readStsd keeps the stsd box byte for byte and widens the track to its
// visual sample entries' dimensions.
func (t *trackMeta) readStsd(box, payload []byte) error {
	if len(payload) < 8 {
		return errors.New("stsd too short")
	}
	t.stsd = box
	t.entries = int(binary.BigEndian.Uint32(payload[4:8]))
	return eachWholeBox(payload[8:], func(h boxHead, entry []byte) error {
		if t.kind != mux.Video || !visualEntry(h.typ) {
			return nil
		}
		e := entry[h.hdr:]
		if len(e) < 28 {
			return fmt.Errorf("%s sample entry too short", h.typ)
		}
		t.width = max(t.width, binary.BigEndian.Uint16(e[24:]))
		t.height = max(t.height, binary.BigEndian.Uint16(e[26:]))
		return nil
	})
}

// visualEntry reports whether typ is a visual sample entry this package
// writes.
func visualEntry(typ boxType) bool {
	switch typ {
	case typeAvc1, typeHvc1, typeVp08, typeVp09, typeAv01:
		return true
	}
	return false
}

// count reads the entry count of a finished track's stsz or stss.
func (p *moovParser) count(typ boxType, payload []byte, c *sampleCounts) {
	switch {
	case typ == typeStsz && len(payload) >= 12:
		c.samples = int(binary.BigEndian.Uint32(payload[8:]))
	case typ == typeStss && len(payload) >= 8:
		c.syncs = int(binary.BigEndian.Uint32(payload[4:]))
	}
}

// mvhd reads the movie's duration.
func (p *moovParser) mvhd(payload []byte) error {
	ts, err := fieldAfterTimes(payload, 0)
	if err != nil {
		return err
	}
	var d uint64
	switch {
	case len(payload) > 0 && payload[0] == 1 && len(payload) >= 32:
		d = binary.BigEndian.Uint64(payload[24:])
	case len(payload) > 0 && payload[0] != 1 && len(payload) >= 20:
		d = uint64(binary.BigEndian.Uint32(payload[16:]))
	default:
		return errors.New("mvhd too short")
	}
	p.duration = ticksToDuration(d, ts)
	return nil
}

// finishedStats reports what a finished moov describes.
func (p *moovParser) finishedStats(size int64) mux.FileStats {
	st := mux.FileStats{Bytes: size, Duration: p.duration}
	for i, t := range p.tracks {
		if t.kind == mux.Audio {
			st.AudioFrames += p.counts[i].samples
			continue
		}
		st.VideoFrames += p.counts[i].samples
		st.Keyframes += p.counts[i].syncs
		st.Width, st.Height = int(t.width), int(t.height)
		st.ConfigChanges += max(t.entries-1, 0)
	}
	return st
}

func (p *moovParser) validate() error {
	if len(p.tracks) == 0 {
		return errors.New("no track")
	}
	seen := map[uint32]bool{}
	for _, t := range p.tracks {
		if t.id == 0 || seen[t.id] || t.timescale == 0 || t.kind == 0 || t.stsd == nil {
			return fmt.Errorf("track %d: incomplete or duplicate description", t.id)
		}
		seen[t.id] = true
	}
	return nil
}
