package archive

import (
	"fmt"
	"runtime"
	"testing"
	"time"
)

// BenchmarkRecordConnection records a 10 s VP8+Opus connection into a
// single WebM file per iteration and reports the cost per packet, the
// CPU share of a real-time publisher, and how long delivery took after
// the connection left (archive.available latency).
func BenchmarkRecordConnection(b *testing.B) {
	fx := loadFixture(b, "vp8_opus", "C1", 10*time.Second)
	media := fx.packets[len(fx.packets)-1].offset
	var feed, deliver time.Duration
	b.ReportAllocs()
	for b.Loop() {
		e := newBenchEnv(b, 1<<15) // the whole capture is handed over at once
		src := &fakeSource{}
		e.m.SessionCreated("ch", "S1", nil)
		e.m.ConnectionJoined("ch", fx.conn, src)
		if _, err := e.m.StartRecording("ch", Options{}); err != nil {
			b.Fatal(err)
		}
		rec := src.subscribed().(*Recorder)
		start := time.Now()
		fx.play(rec, e.clock.Now())
		left := time.Now()
		rec.PublisherClosed()
		<-rec.Done()
		feed += left.Sub(start)
		deliver += time.Since(left)
		e.m.Close()
	}
	n := float64(b.N)
	b.ReportMetric(float64((feed+deliver).Nanoseconds())/n/float64(len(fx.packets)), "ns/packet")
	b.ReportMetric(100*(feed+deliver).Seconds()/n/media.Seconds(), "%core/publisher")
	b.ReportMetric(float64(deliver.Milliseconds())/n, "ms-to-available")
}

// BenchmarkRecorderMemory holds 16 recorders open mid-recording, with the
// default hand-off queue, and reports the heap each one keeps.
func BenchmarkRecorderMemory(b *testing.B) {
	fx := loadFixture(b, "vp8_opus", "C1", 3*time.Second)
	const conns = 16
	for b.Loop() {
		e := newBenchEnv(b, 0)
		e.m.SessionCreated("ch", "S1", nil)
		var ms0, ms1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms0)
		var recs []*Recorder
		for i := range conns {
			c := fx.conn
			c.ConnectionID = fmt.Sprintf("C%d", i)
			src := &fakeSource{}
			e.m.ConnectionJoined("ch", c, src)
			if i == 0 {
				if _, err := e.m.StartRecording("ch", Options{}); err != nil {
					b.Fatal(err)
				}
			}
			recs = append(recs, src.subscribed().(*Recorder))
		}
		for _, r := range recs {
			fx.play(r, e.clock.Now())
		}
		time.Sleep(500 * time.Millisecond) // let the recorders drain their queues
		runtime.GC()
		runtime.ReadMemStats(&ms1)
		b.ReportMetric(float64(int64(ms1.HeapAlloc)-int64(ms0.HeapAlloc))/conns, "heap-bytes/recorder")
		e.m.Close()
	}
}

// newBenchEnv is newEnv for benchmarks.
func newBenchEnv(b *testing.B, queue int) *testEnv {
	cfg := DefaultConfig()
	root := b.TempDir()
	cfg.ArchiveDir, cfg.TmpDir = root+"/archive", root+"/tmp"
	e := &testEnv{clock: newFakeClock(), n: newRecNotifier()}
	m, err := NewManager(cfg, Deps{Clock: e.clock, Notifier: discardNotifier{}, QueueSize: queue})
	if err != nil {
		b.Fatal(err)
	}
	e.m, e.cfg = m, m.cfg
	return e
}
