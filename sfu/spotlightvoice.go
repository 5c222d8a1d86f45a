package sfu

import (
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
)

// AudioLevelURI is the RFC 6464 client-to-mixer audio level header
// extension: each audio packet carries the level of its audio in -dBov
// (0 the loudest, 127 silence). Spotlight's voice activity comes from it.
const AudioLevelURI = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"

// Voice activity detector parameters (docs/spotlight.md).
const (
	// voicedLevel: a packet at this level (-dBov) or louder is voice.
	voicedLevel = 50
	// speechGap: unvoiced packets up to this long do not end a speech
	// run (pauses between words).
	speechGap = 400 * time.Millisecond
	// minSpeech: a run must last this long before it may take the focus
	// (a cough or a knock does not).
	minSpeech = 500 * time.Millisecond
	// focusHold: a focused speaker keeps the focus at least this long
	// after its last voice.
	focusHold = 1500 * time.Millisecond
	// minSwitch: at most one speaker replaces another this often.
	minSwitch = time.Second
	// focusEval: how often the focus is decided again.
	focusEval = 100 * time.Millisecond
	// loudnessWeight: the loudness is averaged over about this many
	// voiced packets.
	loudnessWeight = 8
)

// voice is one publisher's voice activity. It is written by the
// publisher's audio read loop alone (observe) and read by the focus
// decision (state), both without locks.
type voice struct {
	lastVoiced atomic.Int64 // unix nanoseconds of the last voiced packet; 0: never
	runStart   atomic.Int64 // start of the current speech run
	loudness   atomic.Int32 // average 127-level of the voiced packets, scaled by 16
}

// observe takes the audio level of one packet arriving at now. A silent
// packet costs one comparison.
func (v *voice) observe(level uint8, now time.Time) {
	if level > voicedLevel {
		return
	}
	n := now.UnixNano()
	if last := v.lastVoiced.Load(); last == 0 || n-last > int64(speechGap) {
		v.runStart.Store(n)
	}
	v.lastVoiced.Store(n)
	l := v.loudness.Load()
	v.loudness.Store(l + (int32(127-level)*16-l)/loudnessWeight)
}

// voiceState is a publisher's voice activity at one moment.
type voiceState struct {
	speaking bool          // voiced within speechGap
	run      time.Duration // from the current run's first voice to its last; 0 when not speaking
	silent   time.Duration // since the last voiced packet; huge when never
	loudness int32
}

// state is the activity at now.
func (v *voice) state(now time.Time) voiceState {
	if v == nil {
		return voiceState{silent: time.Duration(1<<63 - 1)}
	}
	last := v.lastVoiced.Load()
	if last == 0 {
		return voiceState{silent: time.Duration(1<<63 - 1)}
	}
	st := voiceState{silent: time.Duration(now.UnixNano() - last), loudness: v.loudness.Load()}
	if st.silent <= speechGap {
		st.speaking, st.run = true, time.Duration(last-v.runStart.Load())
	}
	return st
}

// candidate reports whether the voice may take the focus: a speech run
// of minSpeech or more goes on.
func (st voiceState) candidate() bool { return st.speaking && st.run >= minSpeech }

// audioLevel returns the level of a packet's audio level extension id
// (RFC 6464: V bit, then 7 bits of level); false without it.
func audioLevel(p *rtp.Packet, id uint8) (uint8, bool) {
	if id == 0 || !p.Extension {
		return 0, false
	}
	b := p.GetExtension(id)
	if len(b) == 0 {
		return 0, false
	}
	return b[0] & 0x7f, true
}
