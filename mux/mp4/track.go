package mp4

import (
	"errors"
	"fmt"
	"time"

	"github.com/kiroku-sfu/kiroku/mux"
	"github.com/kiroku-sfu/kiroku/mux/codec/opus"
)

// Durations given to a track's last sample when nothing better is known:
// one frame at 30 fps, or one 20 ms Opus packet.
const (
	defaultVideoTicks = videoTimescale / 30
	defaultAudioTicks = opusSampleRate / 50
)

// track is a Writer's state for one track.
type track struct {
	meta    trackMeta
	info    mux.TrackInfo
	configs []*mux.VideoConfig // one per video sample entry
	sdi     uint32             // current sample entry, 0 before the first keyframe
	p       pending

	started   bool
	lastPTS   time.Duration
	lastStart int64  // ticks of the newest sample
	prevDur   uint32 // usual ticks between samples (see noteStep)
	lastStep  uint32 // ticks between the two newest samples
	ownDur    uint32 // the newest sample's own duration when it tells (Opus TOC), else 0
}

func newTrack(info mux.TrackInfo, id, timescale uint32, headroom int) (*track, error) {
	t := &track{info: info, meta: trackMeta{id: id, kind: info.Kind(), timescale: timescale},
		p: newPending(headroom)}
	if err := t.updateStsd(); err != nil {
		return nil, err
	}
	return t, nil
}

// updateStsd rebuilds the track's stsd and its largest dimensions.
func (t *track) updateStsd() error {
	stsd, err := buildStsd(t.info, t.configs)
	if err != nil {
		return err
	}
	t.meta.stsd, t.meta.entries = stsd, len(t.configs)
	if t.meta.kind == mux.Audio {
		t.meta.entries = 1 // the Opus entry
	}
	for _, c := range t.configs {
		t.meta.width = max(t.meta.width, uint16(c.Width))
		t.meta.height = max(t.meta.height, uint16(c.Height))
	}
	return nil
}

// check validates a frame against the track's history.
func (t *track) check(f mux.Frame) error {
	if f.PTS < 0 {
		return errors.New("negative PTS")
	}
	if t.started && f.PTS < t.lastPTS {
		return fmt.Errorf("PTS goes back from %v", t.lastPTS)
	}
	if t.started && durationToTicks(f.PTS, t.meta.timescale)-t.lastStart > maxSampleGap {
		return fmt.Errorf("PTS jumps forward from %v by more than a sample can last", t.lastPTS)
	}
	if t.meta.kind == mux.Video && t.sdi == 0 && (!f.Keyframe || f.Config == nil) {
		return errors.New("the first video frame must be a keyframe with a configuration")
	}
	if len(f.Data) == 0 {
		return errors.New("empty frame")
	}
	if uint64(len(f.Data)) > 1<<32-1 {
		return errors.New("frame larger than 4 GiB")
	}
	return nil
}

// add appends a checked frame to the pending fragment.
func (t *track) add(f mux.Frame, sdi uint32) {
	start := durationToTicks(f.PTS, t.meta.timescale)
	if t.started {
		t.noteStep(uint32(start - t.lastStart))
	}
	t.started, t.lastPTS, t.lastStart, t.sdi = true, f.PTS, start, sdi
	t.ownDur = 0
	if t.info.Codec == mux.Opus {
		if d, err := opus.PacketDuration(f.Data); err == nil {
			t.ownDur = uint32(durationToTicks(d, t.meta.timescale))
		}
	}
	t.p.sdi = sdi
	t.p.add(pendingSample{start: start, size: uint32(len(f.Data)), sync: f.Keyframe || t.meta.kind == mux.Audio}, f.Data)
}

// noteStep keeps prevDur the usual step between samples: a longer step
// (a gap in the media, such as video lost until the next keyframe)
// replaces it only when it repeats, so the frame written after a gap does
// not take the gap's length as its own when it turns out to be the last.
func (t *track) noteStep(d uint32) {
	if t.prevDur == 0 || d < t.prevDur || d == t.lastStep {
		t.prevDur = d
	}
	t.lastStep = d
}

// lastDuration is the duration written for the track's newest sample: until
// end on the final fragment when end is after it, else the packet's own
// duration (Opus), else its predecessor's. Finishing replaces it with the
// distance to the next sample whenever one follows.
func (t *track) lastDuration(final bool, end time.Duration) uint32 {
	if final && end > t.lastPTS {
		if d := durationToTicks(end, t.meta.timescale) - t.lastStart; d > 0 && d <= maxSampleGap {
			return uint32(d)
		}
	}
	if t.ownDur > 0 {
		return t.ownDur
	}
	if t.prevDur > 0 {
		return t.prevDur
	}
	if t.meta.kind == mux.Audio {
		return defaultAudioTicks
	}
	return defaultVideoTicks
}
