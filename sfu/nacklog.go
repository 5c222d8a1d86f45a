package sfu

// nackLogSize is how many sequence numbers a receiveLog remembers: pion's
// NACK generator's default, about two seconds of a 2.5 Mbit/s video.
const nackLogSize = 512

// receiveLog remembers which of a stream's last nackLogSize sequence
// numbers arrived, to list the ones missing. It is not safe for
// concurrent use.
type receiveLog struct {
	bits    [nackLogSize / 64]uint64
	started bool
	end     uint16 // the newest sequence number received
	// contiguous is the newest sequence number up to which nothing is
	// missing (or forgotten: at most nackLogSize behind end).
	contiguous uint16
}

// add notes that seq arrived. A sequence number up to half the sequence
// space ahead of the newest is newer; one behind it fills a gap if the
// log still remembers that far back, and is ignored otherwise.
func (l *receiveLog) add(seq uint16) {
	if !l.started {
		l.started, l.end, l.contiguous = true, seq, seq
		l.set(seq, true)
		return
	}
	ahead := seq - l.end
	switch {
	case ahead == 0:
		return
	case ahead < 1<<15: // newer: the ones skipped are missing so far
		for s := l.end + 1; s != seq; s++ {
			l.set(s, false)
		}
		l.end = seq
		if seq-l.contiguous > nackLogSize {
			l.contiguous = seq - nackLogSize
		}
	case l.end-seq >= nackLogSize || seq-l.contiguous >= 1<<15:
		return // forgotten already, or not missing
	}
	l.set(seq, true)
	l.advance()
}

// missing appends to dst the sequence numbers after the contiguous run
// that have not arrived, oldest first.
func (l *receiveLog) missing(dst []uint16) []uint16 {
	if !l.started {
		return dst
	}
	for s := l.contiguous + 1; s != l.end+1; s++ {
		if !l.has(s) {
			dst = append(dst, s)
		}
	}
	return dst
}

// advance moves the contiguous run over what has arrived after it.
func (l *receiveLog) advance() {
	for l.contiguous != l.end && l.has(l.contiguous+1) {
		l.contiguous++
	}
}

func (l *receiveLog) set(seq uint16, received bool) {
	pos := seq % nackLogSize
	if received {
		l.bits[pos/64] |= 1 << (pos % 64)
	} else {
		l.bits[pos/64] &^= 1 << (pos % 64)
	}
}

func (l *receiveLog) has(seq uint16) bool {
	pos := seq % nackLogSize
	return l.bits[pos/64]&(1<<(pos%64)) != 0
}
