package mp4

import (
	"math"
	"time"

	gomp4 "github.com/abema/go-mp4"
)

// sampleTables accumulates one track's progressive sample tables while the
// finisher walks the file's fragments. A sample's duration is the distance
// to the next sample's start, so durations follow the rounded absolute
// times written in the fragments and never drift; the last sample keeps the
// duration its fragment gave it.
type sampleTables struct {
	stts   []gomp4.SttsEntry
	stss   []uint32
	stsc   []gomp4.StscEntry
	sizes  []uint32
	chunks []uint64

	count      uint32 // samples so far
	firstStart int64  // decode time of the first sample, in track ticks
	lastStart  int64
	lastDur    uint32 // the last sample's own duration from its fragment
	mediaDur   uint64 // sum of the durations of every sample but the last
	needSync   bool   // samples were lost: drop samples until a sync sample
}

// addChunk starts a chunk of n samples at file offset off described by
// sample entry sdi (1-based).
func (t *sampleTables) addChunk(off uint64, n, sdi uint32) {
	t.chunks = append(t.chunks, off)
	if k := len(t.stsc); k > 0 && t.stsc[k-1].SamplesPerChunk == n && t.stsc[k-1].SampleDescriptionIndex == sdi {
		return
	}
	t.stsc = append(t.stsc, gomp4.StscEntry{FirstChunk: uint32(len(t.chunks)), SamplesPerChunk: n, SampleDescriptionIndex: sdi})
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
	t.lastStart, t.lastDur = start, dur
	t.sizes = append(t.sizes, size)
	if sync {
		t.stss = append(t.stss, t.count)
	}
}

func (t *sampleTables) appendDelta(d uint32) {
	t.mediaDur += uint64(d)
	if k := len(t.stts); k > 0 && t.stts[k-1].SampleDelta == d {
		t.stts[k-1].SampleCount++
		return
	}
	t.stts = append(t.stts, gomp4.SttsEntry{SampleCount: 1, SampleDelta: d})
}

// close gives the last sample its duration; call it once, after the walk.
func (t *sampleTables) close() {
	if t.count > 0 {
		t.appendDelta(t.lastDur)
	}
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
