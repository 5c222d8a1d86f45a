package mp4

import (
	"bytes"
	"errors"
	"fmt"

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
}

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
		return h.Expand()
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
