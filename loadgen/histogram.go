package loadgen

import (
	"sync/atomic"
	"time"
)

// Histogram buckets: 1 µs wide below fineLimit, coarseWidth wide up to
// coarseLimit, and one overflow bucket above.
const (
	fineLimit    = 10_000    // µs
	coarseWidth  = 100       // µs
	coarseLimit  = 1_010_000 // µs
	bucketCount  = fineLimit + (coarseLimit-fineLimit)/coarseWidth + 1
	overflowSlot = bucketCount - 1
)

// Histogram counts delays with 1 µs resolution up to 10 ms and 100 µs
// resolution up to about 1 s; longer delays land in one overflow bucket.
// Record is safe for concurrent use; its memory is fixed.
type Histogram struct {
	counts [bucketCount]atomic.Uint64
}

// Record adds one delay; negative delays count as zero.
func (h *Histogram) Record(d time.Duration) {
	h.counts[bucketOf(d)].Add(1)
}

func bucketOf(d time.Duration) int {
	us := d.Microseconds()
	switch {
	case us < 0:
		return 0
	case us < fineLimit:
		return int(us)
	case us < coarseLimit:
		return fineLimit + int((us-fineLimit)/coarseWidth)
	default:
		return overflowSlot
	}
}

// lowerBound is the smallest delay in bucket i.
func lowerBound(i int) time.Duration {
	if i < fineLimit {
		return time.Duration(i) * time.Microsecond
	}
	return time.Duration(fineLimit+(i-fineLimit)*coarseWidth) * time.Microsecond
}

// Snapshot copies the counts.
func (h *Histogram) Snapshot() *DelayCounts {
	var s DelayCounts
	for i := range h.counts {
		s.counts[i] = h.counts[i].Load()
	}
	return &s
}

// DelayCounts is a copy of a [Histogram] at one moment.
type DelayCounts struct {
	counts [bucketCount]uint64
}

// Sub returns the delays recorded after prev was taken.
func (s *DelayCounts) Sub(prev *DelayCounts) *DelayCounts {
	var d DelayCounts
	for i := range s.counts {
		d.counts[i] = s.counts[i] - prev.counts[i]
	}
	return &d
}

// Count is the number of recorded delays.
func (s *DelayCounts) Count() uint64 {
	var n uint64
	for _, c := range s.counts {
		n += c
	}
	return n
}

// Quantile returns the lower bound of the bucket holding quantile q
// (0 < q ≤ 1), or 0 when nothing was recorded. An overflow reads as the
// overflow bucket's lower bound, about 1 s.
func (s *DelayCounts) Quantile(q float64) time.Duration {
	total := s.Count()
	if total == 0 {
		return 0
	}
	rank := uint64(q*float64(total) + 0.5)
	rank = max(rank, 1)
	var seen uint64
	for i, c := range s.counts {
		seen += c
		if seen >= rank {
			return lowerBound(i)
		}
	}
	return lowerBound(overflowSlot)
}
