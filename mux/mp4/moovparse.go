package mp4

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	gomp4 "github.com/abema/go-mp4"

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

// parseMoov parses a moov box given whole (header included).
func parseMoov(moov []byte) (*moovParser, error) {
	p := &moovParser{moov: moov}
	if _, err := gomp4.ReadBoxStructure(bytes.NewReader(moov), p.handle); err != nil {
		return nil, fmt.Errorf("parse moov: %w", err)
	}
	if err := p.validate(); err != nil {
		return nil, fmt.Errorf("parse moov: %w", err)
	}
	return p, nil
}

func (p *moovParser) handle(h *gomp4.ReadHandle) (any, error) {
	if bi := h.BoxInfo; bi.Size < bi.HeaderSize || bi.Offset+bi.Size > uint64(len(p.moov)) {
		return nil, fmt.Errorf("box %s overruns the moov", bi.Type)
	}
	switch h.BoxInfo.Type {
	case gomp4.BoxTypeMoov(), gomp4.BoxTypeMdia(), gomp4.BoxTypeMinf(), gomp4.BoxTypeStbl():
		return h.Expand()
	case gomp4.BoxTypeMvex():
		p.fragmented = true
		return nil, nil
	case gomp4.BoxTypeTrak():
		if len(p.tracks) == maxTracks {
			return nil, errors.New("too many tracks")
		}
		p.tracks = append(p.tracks, trackMeta{})
		p.counts = append(p.counts, sampleCounts{})
		return h.Expand()
	case gomp4.BoxTypeMvhd():
		return nil, p.mvhd(h)
	}
	if len(p.tracks) == 0 {
		return nil, nil
	}
	t := &p.tracks[len(p.tracks)-1]
	switch h.BoxInfo.Type {
	case gomp4.BoxTypeStsd():
		return p.stsd(h, t)
	case gomp4.BoxTypeTkhd(), gomp4.BoxTypeMdhd(), gomp4.BoxTypeHdlr():
		box, _, err := h.ReadPayload()
		if err != nil {
			return nil, err
		}
		t.set(box)
	case gomp4.BoxTypeStsz(), gomp4.BoxTypeStss():
		p.count(h.BoxInfo, &p.counts[len(p.counts)-1])
	}
	if len(h.Path) == 7 && h.Path[5] == gomp4.BoxTypeStsd() {
		return nil, t.visualEntry(h)
	}
	return nil, nil
}

// set copies what the track needs from a tkhd, mdhd or hdlr.
func (t *trackMeta) set(box gomp4.IBox) {
	switch b := box.(type) {
	case *gomp4.Tkhd:
		t.id = b.TrackID
	case *gomp4.Mdhd:
		t.timescale = b.Timescale
	case *gomp4.Hdlr:
		switch b.HandlerType {
		case [4]byte{'v', 'i', 'd', 'e'}:
			t.kind = mux.Video
		case [4]byte{'s', 'o', 'u', 'n'}:
			t.kind = mux.Audio
		}
	}
}

// stsd keeps the stsd box byte for byte and visits its entries for their
// dimensions.
func (p *moovParser) stsd(h *gomp4.ReadHandle, t *trackMeta) (any, error) {
	bi := h.BoxInfo
	t.stsd = p.moov[bi.Offset : bi.Offset+bi.Size]
	box, _, err := h.ReadPayload()
	if err != nil {
		return nil, err
	}
	t.entries = int(box.(*gomp4.Stsd).EntryCount)
	return h.Expand()
}

// visualEntry widens the track to a visual sample entry's dimensions.
func (t *trackMeta) visualEntry(h *gomp4.ReadHandle) error {
	if t.kind != mux.Video {
		return nil
	}
	box, _, err := h.ReadPayload()
	if err != nil {
		return err
	}
	if e, ok := box.(*gomp4.VisualSampleEntry); ok {
		t.width, t.height = max(t.width, e.Width), max(t.height, e.Height)
	}
	return nil
}

// count reads the entry count of a finished track's stsz or stss.
func (p *moovParser) count(bi gomp4.BoxInfo, c *sampleCounts) {
	payload := p.moov[bi.Offset+bi.HeaderSize : bi.Offset+bi.Size]
	switch {
	case bi.Type == gomp4.BoxTypeStsz() && len(payload) >= 12:
		c.samples = int(binary.BigEndian.Uint32(payload[8:]))
	case bi.Type == gomp4.BoxTypeStss() && len(payload) >= 8:
		c.syncs = int(binary.BigEndian.Uint32(payload[4:]))
	}
}

func (p *moovParser) mvhd(h *gomp4.ReadHandle) error {
	box, _, err := h.ReadPayload()
	if err != nil {
		return err
	}
	m := box.(*gomp4.Mvhd)
	d := uint64(m.DurationV0)
	if m.GetVersion() == 1 {
		d = m.DurationV1
	}
	p.duration = ticksToDuration(d, m.Timescale)
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
