package depack

// maxDropout is the largest forward sequence jump still taken as loss within
// one stream; a larger jump needs a second, consecutive packet to confirm a
// restart (the rule of RFC 3550 appendix A.1).
const maxDropout = 3000

// seqVerdict is what seqTracker concluded about a packet's sequence number.
type seqVerdict uint8

const (
	seqOK        seqVerdict = iota // the extended number is valid
	seqProbation                   // far out of range: drop, wait for confirmation
	seqRestart                     // a second packet confirmed a jump: the stream restarted
)

// seqTracker extends 16-bit RTP sequence numbers to 64 bits relative to the
// highest number seen and notices stream restarts.
type seqTracker struct {
	started     bool
	highest     int64
	maxMisorder int64
	probing     bool
	probeSeq    uint16 // the number that would confirm a restart
}

// reset forgets the stream; the next packet starts a new one.
func (s *seqTracker) reset() {
	s.started, s.probing = false, false
}

// extend returns seq as a 64-bit number and a verdict. The first packet of
// a stream is numbered seq itself, so packets reordered ahead of it get
// numbers just below (possibly negative), never a wrapped one.
func (s *seqTracker) extend(seq uint16) (int64, seqVerdict) {
	if !s.started {
		s.started, s.probing = true, false
		s.highest = int64(seq)
		return s.highest, seqOK
	}
	d := int64(int16(seq - uint16(s.highest)))
	if d > maxDropout || d < -s.maxMisorder {
		if s.probing && seq == s.probeSeq {
			s.probing = false
			return 0, seqRestart
		}
		s.probing, s.probeSeq = true, seq+1
		return 0, seqProbation
	}
	s.probing = false
	ext := s.highest + d
	if ext > s.highest {
		s.highest = ext
	}
	return ext, seqOK
}

// tsTracker extends 32-bit RTP timestamps to 64 bits. Each packet is
// unwrapped relative to the previous one, so wraps in either direction
// (including reordering across a wrap) come out right as long as
// neighbouring packets are less than 2^31 ticks apart. The first packet of
// a stream maps to 0.
type tsTracker struct {
	started bool
	lastRTP uint32
	last    int64
}

// reset makes the next packet the first of a new stream.
func (t *tsTracker) reset() { t.started = false }

// extend returns ts relative to the stream's first packet.
func (t *tsTracker) extend(ts uint32) int64 {
	if !t.started {
		t.started, t.lastRTP, t.last = true, ts, 0
		return 0
	}
	t.last += int64(int32(ts - t.lastRTP))
	t.lastRTP = ts
	return t.last
}
