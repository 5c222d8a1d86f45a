package rtpmux

import (
	"time"

	"github.com/kiroku-sfu/kiroku/mux"
	"github.com/kiroku-sfu/kiroku/mux/depack"
)

// senderReport is the latest RTCP sender report of a track: the sender's
// wall clock (NTP format) at RTP time rtp of stream ssrc.
type senderReport struct {
	valid bool
	ssrc  uint32
	ntp   uint64
	rtp   uint32
}

// wallAt returns the sender's wall clock at RTP time ts, or false when the
// report is for another stream.
func (sr senderReport) wallAt(ssrc, ts uint32, clock uint32) (time.Duration, bool) {
	if !sr.valid || sr.ssrc != ssrc {
		return 0, false
	}
	return ntpDuration(sr.ntp) + ticksDuration(int64(int32(ts-sr.rtp)), clock), true
}

// ntpDuration converts a 32.32 fixed-point NTP timestamp to a duration
// since the NTP epoch, rounding the fraction to the nearest nanosecond.
func ntpDuration(ntp uint64) time.Duration {
	secs := time.Duration(ntp>>32) * time.Second
	frac := time.Duration(((ntp&0xffffffff)*uint64(time.Second) + 1<<31) >> 32)
	return secs + frac
}

// ticksDuration converts clock-rate ticks to a duration.
func ticksDuration(ticks int64, clock uint32) time.Duration {
	secs, rem := ticks/int64(clock), ticks%int64(clock)
	return time.Duration(secs)*time.Second + time.Duration(rem*int64(time.Second)/int64(clock))
}

// track is one media track of the connection: its assembler, the mapping
// of its timestamps to the reference clock, and its queue of frames.
//
// The reference clock is the arrival clock. A track's first frame fixes
// its anchor: its arrival time for the first track; for the second track,
// the first track's anchor plus the distance between both anchors on the
// sender's wall clock when sender reports of both streams are known, else
// its own arrival time. Afterwards the track's RTP clock alone advances its
// time, so DTX silence and loss gaps keep their true length.
type track struct {
	kind mux.Kind
	info mux.TrackInfo
	asm  *depack.Assembler
	err  error // the track's fatal error; its packets are ignored afterwards

	sr         senderReport
	anchored   bool
	anchorTS   int64
	anchorRef  time.Duration
	anchorRTP  uint32
	anchorSSRC uint32

	fifo    fifo
	lastPTS time.Duration // on the recording timeline
	hasPTS  bool
	shift   time.Duration // added to a track that would start before 0
	needKey bool          // drop delta frames until a keyframe (after a forced cut)

	gaps    []trackGap
	clamped int // frames whose time was raised to keep PTS from going back
	dropped int // frames dropped here (not by the assembler)

	// The counters at the start of the current file.
	snap        depack.Stats
	droppedSnap int
}

// trackGap is a gap reported by the assembler, on the track's timestamps.
type trackGap struct {
	depack.Gap
	counted bool // its dropped frames went into a finished part's summary
}

// anchor fixes the track's mapping to the reference clock at frame f.
func (t *track) anchor(f *depack.Frame, other *track) {
	t.anchored, t.anchorTS, t.anchorRTP, t.anchorSSRC = true, f.Timestamp, f.RTPTimestamp, f.SSRC
	t.anchorRef = f.Arrival
	if other == nil || !other.anchored {
		return
	}
	mine, ok1 := t.sr.wallAt(f.SSRC, f.RTPTimestamp, t.info.ClockRate)
	theirs, ok2 := other.sr.wallAt(other.anchorSSRC, other.anchorRTP, other.info.ClockRate)
	if ok1 && ok2 {
		t.anchorRef = other.anchorRef + (mine - theirs)
	}
}

// ref maps a timestamp of this track to the reference clock.
func (t *track) ref(ts int64) time.Duration {
	return t.anchorRef + ticksDuration(ts-t.anchorTS, t.info.ClockRate)
}

// headTime is the reference time of the first queued frame, shifted like
// the track.
func (t *track) headTime() time.Duration { return t.fifo.peek().ref + t.shift }
