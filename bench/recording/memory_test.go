package recording

import (
	"runtime"
	"testing"
	"time"

	"github.com/kiroku-sfu/kiroku/archive"
)

const (
	// memConns is how many connections BenchmarkRecordingHeap records at once.
	memConns = 16
	// memSpeed is its replay pace, in multiples of real time: slow enough
	// for the default hand-off queue.
	memSpeed = 10
)

// BenchmarkRecordingHeap records memConns 2.5 Mbit/s publishers, stops
// feeding them 5.5 s into the recording (mid-GOP, files open), lets the
// recorders drain, and reports the live heap each recorded connection
// keeps ("heap-bytes/connection"), for both formats.
func BenchmarkRecordingHeap(b *testing.B) {
	st, err := loadStream(10*time.Second, targetBitrate)
	if err != nil {
		b.Fatal(err)
	}
	half := &stream{conn: st.conn, span: st.span, seqAdv: st.seqAdv, tsAdv: st.tsAdv}
	for _, it := range st.pass {
		if it.offset < 5*time.Second+500*time.Millisecond {
			half.pass = append(half.pass, it)
		}
	}
	for _, f := range []archive.Format{archive.FormatWebM, archive.FormatMP4} {
		b.Run(string(f), func(b *testing.B) {
			var total float64
			for b.Loop() {
				total += heapPerConnection(b, half, f)
			}
			b.ReportMetric(total/float64(b.N), "heap-bytes/connection")
		})
	}
}

// heapPerConnection returns the live heap that memConns open recordings
// add, per connection.
func heapPerConnection(b *testing.B, st *stream, f archive.Format) float64 {
	m, _ := newManager(b, f, newNotifier(), 0)
	defer func() {
		if err := m.Close(); err != nil {
			b.Fatal(err)
		}
	}()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, recs := recordAll(b, m, st, memConns)
	sinks := make([]archive.Sink, len(recs))
	for i, r := range recs {
		sinks[i] = r
	}
	replayAll(st, sinks, 1, memSpeed)
	time.Sleep(time.Second) // let the recorders drain their queues
	runtime.GC()
	runtime.ReadMemStats(&after)
	for _, r := range recs {
		if r.Dropped() > 0 {
			b.Fatalf("recorder dropped %d packets", r.Dropped())
		}
	}
	runtime.KeepAlive(recs)
	return float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / memConns
}
