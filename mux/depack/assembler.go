package depack

import (
	"errors"
	"time"

	"github.com/pion/rtp"

	"github.com/kiroku-sfu/kiroku/mux"
)

// Assembler reorders one RTP stream and turns it into frames. It is not
// safe for concurrent use.
//
// A new SSRC or a sequence jump, each confirmed by a second packet that
// follows the first in sequence (a lone stray packet is dropped), restarts
// the stream: what is buffered is delivered, sequence and
// timestamp state are reset, and the new stream's timestamps continue after
// the old stream's last packet by the arrival time that passed between them,
// so Frame.Timestamp stays one timeline. The change is reported as a gap
// of cause mux.GapSSRCChange.
type Assembler struct {
	cfg   Config
	video bool
	ring  ring
	seq   seqTracker
	ts    tsTracker
	ssrc  uint32
	stats Stats
	err   error // fatal: the stream stopped

	next    int64 // the lowest sequence number not yet consumed
	nextSet bool  // next is known (a packet of this stream was stored)

	// Per stream: packets are held until MaxLatency after the first one
	// arrived, so that packets reordered around the first still count.
	streamArrival  time.Duration
	streamConsumed bool
	tsBase         int64 // the timeline position of the stream's first packet
	tsOffset       int64 // added to tsTracker values once the stream started

	holeAt    int64 // the hole holeSince belongs to; valid while holeValid
	holeSince time.Duration
	holeValid bool

	// probe is the last packet dropped by the restart rule, replayed if
	// the next packet confirms the restart.
	probe      slot
	probeSSRC  uint32
	probeValid bool

	lastTS      int64 // highest timestamp consumed
	lastArrival time.Duration
	frameTicks  int64 // usual positive timestamp step between frames (see noteFrame)
	lastStep    int64 // the last such step measured
	consumed    bool  // a packet of any stream has been consumed

	lastFrameTS int64 // timestamp of the last frame started
	framesSeen  bool
	lastEmitted int64 // timestamp of the last frame emitted
	emittedAny  bool
	audioLost   int // audio packets lost since the last frame
	// audioLostCause is the cause of the pending audio loss gap.
	audioLostCause mux.GapCause
	// callerDropped says the next hole is packets the caller dropped.
	callerDropped bool

	frame frameState
	gap   gapState
	out   []byte // reused output buffer for AppendFrame
	// randomAccess says decoding (re)started at the last keyframe: it
	// ended a gap (or the wait for the first keyframe), so frames that
	// refer to pictures before it cannot be decoded.
	randomAccess bool
	// undecodable says a frame was refused by the depacketizer and no
	// keyframe has been written since.
	undecodable bool

	// inPlace is the packet being consumed on the in-order path (see
	// inorder.go); its payload is the caller's, only during Push.
	inPlace slot
	// ringOnly turns the in-order path off, so tests can compare both.
	ringOnly bool
}

// New returns an Assembler for cfg (defaults filled in).
func New(cfg Config) (*Assembler, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	size := ringSize(cfg.ReorderWindow)
	a := &Assembler{
		cfg:        cfg,
		video:      cfg.Track.Kind() == mux.Video,
		ring:       newRing(size),
		seq:        seqTracker{maxMisorder: int64(size)},
		frameTicks: int64(cfg.Track.ClockRate) / 50, // 20 ms until measured
	}
	if a.video {
		a.gap.open(mux.GapWaitKeyframe)
	}
	return a, nil
}

// Stats returns the counters so far.
func (a *Assembler) Stats() Stats { return a.stats }

// Err returns the fatal error that stopped the stream, if any
// (mux.ErrReordering from the depacketizer).
func (a *Assembler) Err() error { return a.err }

// Push adds one packet that arrived at arrival (any monotonic clock; only
// differences matter). The packet is not kept (what must wait for later
// packets is copied), so the caller may reuse the packet and its buffer as
// soon as Push returns. Frames and gaps that
// become complete are delivered before Push returns. Bad packets are
// dropped and counted, never an error; the error is the track's fatal
// error (see Err).
func (a *Assembler) Push(pkt *rtp.Packet, arrival time.Duration) error {
	if a.err != nil {
		return a.err
	}
	if pkt == nil {
		return errors.New("depack: push: nil packet")
	}
	a.stats.PacketsReceived++
	if len(pkt.Payload) > maxFrameBytes {
		a.stats.PacketsInvalid++
		return nil
	}
	var ext int64
	verdict := seqRestart
	switch {
	case !a.seq.started || pkt.SSRC == a.ssrc:
		ext, verdict = a.seq.extend(pkt.SequenceNumber)
	case !a.confirmsProbe(pkt):
		verdict = seqProbation // a stray packet, or the first of a new SSRC
	}
	switch verdict {
	case seqProbation:
		a.stats.PacketsInvalid++
		a.keepProbe(pkt, arrival)
		return nil
	case seqRestart:
		a.restart(a.probe.arrival) // the new stream began with the probe
		a.ssrc = pkt.SSRC
		a.replayProbe()
		ext, _ = a.seq.extend(pkt.SequenceNumber)
	default:
		a.probeValid = false
	}
	a.ssrc = pkt.SSRC
	if a.inOrder(ext) {
		a.direct(ext, pkt, arrival)
		return a.err
	}
	a.store(ext, pkt, arrival)
	a.consume(arrival)
	return a.err
}

// NoteDropped tells the Assembler that the caller dropped packets of this
// stream (it fell behind) before the next one it pushes: the hole this
// leaves is reported as a gap of cause mux.GapBackpressure, not loss.
func (a *Assembler) NoteDropped() { a.callerDropped = true }

// Flush delivers everything buffered as if every hole had expired, drops
// a video frame still missing its end and reports the open gap, if any.
// The Assembler stays usable.
func (a *Assembler) Flush() error {
	if a.err != nil {
		return a.err
	}
	a.drain()
	if a.video {
		a.dropPartialFrame()
	}
	a.flushGap()
	return a.err
}

// store puts the packet numbered ext into the ring, or counts it as late
// or duplicate.
func (a *Assembler) store(ext int64, pkt *rtp.Packet, arrival time.Duration) {
	switch {
	case !a.nextSet:
		a.next, a.nextSet, a.streamArrival = ext, true, arrival
	case !a.streamConsumed && ext < a.next && a.seq.highest-ext < a.ring.size():
		a.next = ext // reordered ahead of the stream's first packet
	}
	if ext < a.next {
		if s := a.ring.at(ext); s.state == slotDone && s.ext == ext {
			a.stats.PacketsDuplicate++
		} else {
			a.stats.PacketsLate++
		}
		return
	}
	if _, held := a.ring.held(ext); held {
		a.stats.PacketsDuplicate++
		return
	}
	if ext-a.next >= a.ring.size() {
		a.skipTo(ext - a.ring.size() + 1)
	}
	s := a.ring.at(ext)
	s.ext, s.state, s.arrival = ext, slotHeld, arrival
	s.ts, s.rtpTS, s.marker = a.ts.extend(pkt.Timestamp), pkt.Timestamp, pkt.Marker
	s.padding = len(pkt.Payload) == 0
	s.payload = append(a.ring.buffer(s), pkt.Payload...)
}

// consume delivers packets in sequence order while they are present. A
// hole is given up once a packet ReorderWindow numbers past it has arrived
// or the first packet behind it has waited MaxLatency. A new stream's first
// packets are held as long, so packets reordered ahead of them still count.
func (a *Assembler) consume(now time.Duration) {
	window := int64(a.cfg.ReorderWindow)
	if !a.streamConsumed && now-a.streamArrival < a.cfg.MaxLatency && a.seq.highest-a.next < window {
		return
	}
	for a.next <= a.seq.highest && a.err == nil {
		if s, held := a.ring.held(a.next); held {
			a.deliver(s)
			continue
		}
		if !a.holeValid || a.holeAt != a.next {
			since, ok := a.ring.earliestArrival(a.next+1, a.seq.highest)
			if !ok {
				return
			}
			a.holeAt, a.holeSince, a.holeValid = a.next, since, true
		}
		if now-a.holeSince < a.cfg.MaxLatency && a.seq.highest-a.next < window {
			return
		}
		a.lose(1)
	}
}

// drain delivers everything held, giving up on every hole.
func (a *Assembler) drain() {
	if a.nextSet {
		a.skipTo(a.seq.highest + 1)
	}
}

// skipTo consumes up to (not including) target, counting holes as lost.
func (a *Assembler) skipTo(target int64) {
	for a.next < target && a.err == nil {
		if a.next > a.seq.highest {
			a.lose(target - a.next)
			return
		}
		if s, held := a.ring.held(a.next); held {
			a.deliver(s)
		} else {
			a.lose(1)
		}
	}
}

// lose gives up on n sequence numbers starting at next.
func (a *Assembler) lose(n int64) {
	a.stats.PacketsLost += int(n)
	a.next += n
	a.holeValid = false
	a.lost(int(n))
}

// deliver consumes the held packet s, which is numbered next.
func (a *Assembler) deliver(s *slot) {
	s.state = slotDone
	a.use(s)
	a.ring.release(s)
}

// use consumes packet s, which is numbered next: it moves next on and
// hands the packet to frame assembly.
func (a *Assembler) use(s *slot) {
	a.next++
	if !a.streamConsumed {
		a.streamConsumed, a.tsOffset = true, a.tsBase-s.ts
	}
	s.ts += a.tsOffset
	a.consumed = true
	if s.ts > a.lastTS {
		a.lastTS = s.ts
	}
	a.lastArrival = s.arrival
	if s.padding {
		a.stats.PacketsPadding++
	} else {
		a.packet(s)
	}
}
