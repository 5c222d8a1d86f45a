package recording

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kiroku-sfu/kiroku/archive"
)

const (
	// cpuPasses is how many 10 s passes each publisher sends per op.
	cpuPasses = 2
	// cpuSpeed is the replay pace, in multiples of real time.
	cpuSpeed = 20
)

// BenchmarkRecordingCPU replays N 2.5 Mbit/s VP8+Opus publishers at
// cpuSpeed times real time, once into a plain hand-off (baseline) and once
// into recorders writing WebM files, and reports the CPU that recording
// adds per publisher as a share of one core ("%core/publisher"), with the
// process CPU time (getrusage, user + system) of both runs.
func BenchmarkRecordingCPU(b *testing.B) {
	st, err := loadStream(10*time.Second, targetBitrate)
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{4, 8} {
		b.Run(fmt.Sprintf("publishers=%d", n), func(b *testing.B) {
			var base, rec time.Duration
			var dropped int64
			for b.Loop() {
				base += baselineCPU(b, st, n)
				cpu, d := recordingCPU(b, st, n)
				rec += cpu
				dropped += d
			}
			if dropped > 0 {
				b.Errorf("recorders dropped %d packets: the replay outran them, the figure is too low", dropped)
			}
			pubSeconds := float64(b.N*n*cpuPasses) * st.span.Seconds()
			b.ReportMetric(100*(rec-base).Seconds()/pubSeconds, "%core/publisher")
			b.ReportMetric(100*base.Seconds()/pubSeconds, "%core/publisher-baseline")
			b.ReportMetric(st.bitrate()/1e6, "Mbit/s/publisher")
		})
	}
}

// baselineCPU replays n publishers into forwarders and returns the CPU used.
func baselineCPU(b *testing.B, st *stream, n int) time.Duration {
	sinks := make([]archive.Sink, n)
	for i := range sinks {
		sinks[i] = newForwarder()
	}
	start := cpuTime(b)
	replayAll(st, sinks, cpuPasses, cpuSpeed)
	for _, s := range sinks {
		s.PublisherClosed()
	}
	return cpuTime(b) - start
}

// recordingCPU replays n publishers into recorders, closes them, waits for
// their files to be delivered and returns the CPU used and the packets the
// recorders dropped.
func recordingCPU(b *testing.B, st *stream, n int) (time.Duration, int64) {
	m, cfg := newManager(b, archive.FormatWebM, newNotifier(), replayQueue)
	start := cpuTime(b)
	srcs, recs := recordAll(b, m, st, n)
	sinks := make([]archive.Sink, n)
	for i, r := range recs {
		sinks[i] = r
	}
	replayAll(st, sinks, cpuPasses, cpuSpeed)
	var dropped int64
	for i, s := range srcs {
		s.Close()
		<-recs[i].Done()
		dropped += recs[i].Dropped()
	}
	cpu := cpuTime(b) - start
	if err := m.Close(); err != nil {
		b.Fatal(err)
	}
	// The files must hold the media: nearly every RTP byte sent, less
	// headers and VP8 descriptors.
	if got, sent := mediaBytes(b, cfg.ArchiveDir), int64(n*cpuPasses*st.bytes); got < sent*9/10 {
		b.Fatalf("recordings hold %d bytes of %d sent", got, sent)
	}
	return cpu, dropped
}

// replayAll plays passes of st into every sink at once at speed times
// real time, one goroutine per publisher as the SFU has one read loop per
// track, and waits for them.
func replayAll(st *stream, sinks []archive.Sink, passes int, speed float64) {
	base := time.Now()
	var wg sync.WaitGroup
	for _, s := range sinks {
		wg.Go(func() { st.play(s, base, passes, speed) })
	}
	wg.Wait()
}
