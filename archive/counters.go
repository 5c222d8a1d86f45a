package archive

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/kiroku-sfu/kiroku/mux"
	"github.com/kiroku-sfu/kiroku/mux/depack"
)

// finishBuckets are the upper bounds, in seconds, of the histogram of
// recorder finish times (Counters.Finish).
func finishBuckets() []float64 { return []float64{0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30} }

// Counters are a Manager's running totals since it started, for metrics.
type Counters struct {
	Recordings     int    // recordings running now
	ArchivesOK     uint64 // media files delivered with their JSON
	ArchivesFailed uint64 // connections or files that could not be delivered
	// VideoFailures counts recorded connections whose video failed, by
	// stats.video_failure; every cause is present, 0 when none failed.
	VideoFailures  map[string]uint64
	Gaps           map[GapKey]uint64 // gaps written into delivered files; every kind and cause present
	QueueDropped   uint64            // packets dropped at a recorder's full hand-off
	KeyframeRecord uint64            // keyframe requests passed to the SFU, not for a split
	KeyframeSplit  uint64            // keyframe requests passed to the SFU ahead of or at a split
	Finish         Histogram         // time from a recorder's stop to its files delivered
}

// GapKey is a gap's track kind ("audio", "video") and cause.
type GapKey struct{ Kind, Cause string }

// Histogram is a cumulative histogram in Prometheus' shape: Buckets[i]
// counts observations <= Bounds[i].
type Histogram struct {
	Bounds  []float64
	Buckets []uint64
	Count   uint64
	Sum     float64 // seconds
}

// counters are the totals behind Counters. Packet-rate counters are
// atomics; the rest change once per file or recorder, under mu.
type counters struct {
	queueDropped, kfRecord, kfSplit atomic.Uint64

	mu                 sync.Mutex
	archivesOK, failed uint64
	videoFailures      map[string]uint64
	gaps               map[GapKey]uint64
	finish             Histogram
}

func newCounters() *counters {
	b := finishBuckets()
	c := &counters{videoFailures: map[string]uint64{}, gaps: map[GapKey]uint64{},
		finish: Histogram{Bounds: b, Buckets: make([]uint64, len(b))}}
	for _, f := range []depack.Failure{depack.FailureNoPackets, depack.FailureNoKeyframe,
		depack.FailureNoParameterSets, depack.FailureUnsupported} {
		c.videoFailures[string(f)] = 0
	}
	for _, k := range []mux.Kind{mux.Audio, mux.Video} {
		for _, g := range []mux.GapCause{mux.GapLoss, mux.GapSSRCChange, mux.GapBackpressure, mux.GapWaitKeyframe, mux.GapCodecError} {
			c.gaps[GapKey{Kind: k.String(), Cause: string(g)}] = 0
		}
	}
	return c
}

// delivered counts one delivered file and its gaps.
func (c *counters) delivered(s Stats) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.archivesOK++
	for _, g := range s.Gaps {
		c.gaps[GapKey{Kind: g.Kind, Cause: g.Cause}]++
	}
}

// notDelivered counts a file or a connection that failed.
func (c *counters) notDelivered() {
	c.mu.Lock()
	c.failed++
	c.mu.Unlock()
}

// finished counts a recorder that finished in took, and the cause of its
// video failure if any.
func (c *counters) finished(took time.Duration, videoFailure string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if videoFailure != "" {
		c.videoFailures[videoFailure]++
	}
	h := &c.finish
	s := took.Seconds()
	for i, b := range h.Bounds {
		if s <= b {
			h.Buckets[i]++
		}
	}
	h.Count++
	h.Sum += s
}

// Counters returns the running totals.
func (m *Manager) Counters() Counters {
	m.mu.Lock()
	running := 0
	for _, s := range m.sessions {
		if s.rec != nil {
			running++
		}
	}
	m.mu.Unlock()
	c := m.counters
	out := Counters{Recordings: running, QueueDropped: c.queueDropped.Load(),
		KeyframeRecord: c.kfRecord.Load(), KeyframeSplit: c.kfSplit.Load(),
		VideoFailures: map[string]uint64{}, Gaps: map[GapKey]uint64{}}
	c.mu.Lock()
	defer c.mu.Unlock()
	out.ArchivesOK, out.ArchivesFailed = c.archivesOK, c.failed
	for k, v := range c.videoFailures {
		out.VideoFailures[k] = v
	}
	for k, v := range c.gaps {
		out.Gaps[k] = v
	}
	out.Finish = Histogram{Bounds: c.finish.Bounds, Buckets: append([]uint64(nil), c.finish.Buckets...),
		Count: c.finish.Count, Sum: c.finish.Sum}
	return out
}

// keyframeAsked counts one keyframe request a recorder passed to the SFU.
func (c *counters) keyframeAsked(split bool) {
	if split {
		c.kfSplit.Add(1)
	} else {
		c.kfRecord.Add(1)
	}
}
