package recording

import (
	"errors"
	"os"
	"testing"
	"time"

	"github.com/kiroku-sfu/kiroku/archive"
)

// latencySpeed is the replay pace of the long recordings, in multiples of
// real time: 30 minutes of media in 18 s.
const latencySpeed = 100

// BenchmarkAvailableLatency records one 2.5 Mbit/s publisher for 1 and 30
// minutes of media (the 10 s capture looped with shifted sequence numbers,
// timestamps and sender reports, replayed at latencySpeed times real
// time), lets the recorder catch up, writes back the file's dirty pages
// (see settle), closes the publisher and reports the time from the close
// call to the archive.available event ("ms-to-available"), for both
// formats.
func BenchmarkAvailableLatency(b *testing.B) {
	st, err := loadStream(10*time.Second, targetBitrate)
	if err != nil {
		b.Fatal(err)
	}
	for _, length := range []time.Duration{time.Minute, 30 * time.Minute} {
		for _, f := range []archive.Format{archive.FormatWebM, archive.FormatMP4} {
			b.Run(length.String()+"/"+string(f), func(b *testing.B) {
				passes := int(length / st.span)
				var total time.Duration
				for b.Loop() {
					total += availableAfterClose(b, st, f, passes)
				}
				b.ReportMetric(float64(total.Microseconds())/1e3/float64(b.N), "ms-to-available")
			})
		}
	}
}

// availableAfterClose records passes of st in format f and returns how
// long archive.available took after the publisher closed.
func availableAfterClose(b *testing.B, st *stream, f archive.Format, passes int) time.Duration {
	n := newNotifier()
	m, cfg := newManager(b, f, n, replayQueue)
	defer func() {
		if err := m.Close(); err != nil {
			b.Fatal(err)
		}
		// A 30-minute file is 560 MB: free the disk before the next op.
		if err := errors.Join(os.RemoveAll(cfg.ArchiveDir), os.RemoveAll(cfg.TmpDir)); err != nil {
			b.Fatal(err)
		}
	}()
	srcs, recs := recordAll(b, m, st, 1)
	st.play(recs[0], time.Now(), passes, latencySpeed)
	time.Sleep(300 * time.Millisecond) // the queue drains, as it has at the end of a live stream
	settle(b, cfg.TmpDir)
	closed := time.Now()
	srcs[0].Close()
	at, err := n.waitAvailable("C0", time.Minute)
	if err != nil {
		b.Fatal(err)
	}
	if d := recs[0].Dropped(); d > 0 {
		b.Fatalf("recorder dropped %d packets: the replay outran it", d)
	}
	return at.Sub(closed)
}
