package mp4

import (
	"math"
	"time"
)

// tableSink receives one track's sample table entries in file order.
type tableSink interface {
	stts(count, delta uint32)
	stss(sample uint32)
	stsc(firstChunk, perChunk, sdi uint32)
	stsz(size uint32)
	chunk(off uint64)
}

// tableCounts are how many entries each sample table of a track holds.
type tableCounts struct {
	stts, stss, stsc, samples, chunks uint32
	maxChunk                          uint64 // the largest chunk offset
}

// sampleTables derives one track's progressive sample tables while the
// finisher walks the file's fragments. It keeps no table in memory: it
// counts the entries (the first walk, which sizes the moov) and, when it
// has a sink, hands each entry over as soon as it is final (the second
// walk, which writes them where the moov will be). A sample's duration is
// the distance to the next sample's start, so durations follow the rounded
// absolute times written in the fragments and never drift; the last sample
// keeps the duration its fragment gave it.
type sampleTables struct {
	sink tableSink // nil: count only
	n    tableCounts

	runCount, runDelta uint32 // the stts run not yet handed over
	lastN, lastSDI     uint32 // the latest stsc entry

	count      uint32 // samples so far
	firstStart int64  // decode time of the first sample, in track ticks
	lastStart  int64
	lastDur    uint32 // the last sample's own duration from its fragment
	mediaDur   uint64 // sum of the durations of every sample but the last
	needSync   bool   // samples were lost: drop samples until a sync sample
	closed     bool
}

// addChunk starts a chunk of n samples at file offset off described by
// sample entry sdi (1-based).
func (t *sampleTables) addChunk(off uint64, n, sdi uint32) {
	t.n.chunks++
	t.n.maxChunk = max(t.n.maxChunk, off)
	if t.sink != nil {
		t.sink.chunk(off)
	}
	if t.n.stsc > 0 && t.lastN == n && t.lastSDI == sdi {
		return
	}
	t.n.stsc++
	t.lastN, t.lastSDI = n, sdi
	if t.sink != nil {
		t.sink.stsc(t.n.chunks, n, sdi)
	}
}

// addWritten adds a run of samples that a Writer wrote as one chunk at
// file offset off, exactly as a walk reading its trun back would.
func (t *sampleTables) addWritten(off uint64, samples []pendingSample, sdi, lastDur uint32) {
	t.addChunk(off, uint32(len(samples)), sdi)
	for i, s := range samples {
		dur := lastDur
		if i+1 < len(samples) {
			dur = uint32(samples[i+1].start - s.start)
		}
		t.addSample(s.start, dur, s.size, s.sync)
	}
}

// addSample appends a sample starting at start ticks that its fragment says
// lasts dur ticks.
func (t *sampleTables) addSample(start int64, dur, size uint32, sync bool) {
	if t.count == 0 {
		t.firstStart = start
	} else {
		d := start - t.lastStart
		if d < 0 || d > math.MaxUint32 {
			// Times that go backwards or jump absurdly come only from a
			// damaged file; trust the fragment's own duration then.
			d = int64(t.lastDur)
		}
		t.appendDelta(uint32(d))
	}
	t.count++
	t.n.samples++
	t.lastStart, t.lastDur = start, dur
	if t.sink != nil {
		t.sink.stsz(size)
	}
	if sync {
		t.n.stss++
		if t.sink != nil {
			t.sink.stss(t.count)
		}
	}
}

func (t *sampleTables) appendDelta(d uint32) {
	t.mediaDur += uint64(d)
	if t.runCount > 0 && t.runDelta == d {
		t.runCount++
		return
	}
	t.endRun()
	t.runCount, t.runDelta = 1, d
}

// endRun hands over the pending stts run.
func (t *sampleTables) endRun() {
	if t.runCount == 0 {
		return
	}
	t.n.stts++
	if t.sink != nil {
		t.sink.stts(t.runCount, t.runDelta)
	}
	t.runCount = 0
}

// close gives the last sample its duration and hands over the last stts
// run; after it the counts are final. Later calls do nothing.
func (t *sampleTables) close() {
	if t.closed {
		return
	}
	t.closed = true
	if t.count > 0 {
		t.appendDelta(t.lastDur)
		t.endRun()
	}
}

// same reports whether u, a second walk of the same fragments, found what
// t found.
func (t *sampleTables) same(u *sampleTables) bool {
	return t.n == u.n && t.firstStart == u.firstStart && t.mediaDur == u.mediaDur
}

// ticksToDuration converts track ticks to time without overflowing.
func ticksToDuration(ticks uint64, timescale uint32) time.Duration {
	ts := uint64(timescale)
	if ts == 0 {
		return 0
	}
	return time.Duration(ticks/ts)*time.Second + time.Duration(ticks%ts*uint64(time.Second)/ts)
}

// durationToTicks rounds a time to the nearest tick of timescale.
func durationToTicks(d time.Duration, timescale uint32) int64 {
	ts := int64(timescale)
	sec, rem := int64(d/time.Second), int64(d%time.Second)
	return sec*ts + (rem*ts+int64(time.Second)/2)/int64(time.Second)
}

// rescale converts ticks of timescale from to ticks of timescale to,
// rounding to nearest.
func rescale(v uint64, from, to uint32) uint64 {
	if from == 0 {
		return 0
	}
	f, t := uint64(from), uint64(to)
	return v/f*t + (v%f*t+f/2)/f
}
