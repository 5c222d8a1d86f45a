package media

import (
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/kiroku-sfu/kiroku/mux"
	"github.com/kiroku-sfu/kiroku/mux/remux"
	"github.com/kiroku-sfu/kiroku/mux/rtpmux"
)

// repeats is how many times one op replays the capture, so that a run of
// a few ops (`make bench` uses -benchtime 3x) still measures tens of
// milliseconds on a busy machine.
const repeats = 10

// cleanFixtures are the captures the benchmarks replay: one per video codec.
var cleanFixtures = []string{"vp8_opus", "vp9_opus", "av1_opus", "h264_cb_opus", "h264_high_opus", "h265_opus"}

// formats are both container formats.
var formats = []remux.Format{remux.MP4, remux.WebM}

// supported reports whether the capture's codecs fit format.
func supported(c *capture, f remux.Format) bool {
	for _, st := range c.sidecar.Streams {
		if !remux.Supports(f, st.Codec) {
			return false
		}
	}
	return true
}

// forEachCapture runs fn as a sub-benchmark for every clean fixture and
// format that can hold it.
func forEachCapture(b *testing.B, fn func(b *testing.B, c *capture, f remux.Format)) {
	for _, name := range cleanFixtures {
		c, err := loadCapture(name)
		if err != nil {
			b.Fatal(err)
		}
		for _, f := range formats {
			if supported(c, f) {
				b.Run(name+"/"+string(f), func(b *testing.B) { fn(b, c, f) })
			}
		}
	}
}

// sink is what the writers write to: *os.File's methods they use.
type sink interface {
	io.WriteSeeker
	io.ReaderAt
}

// writerTo returns a Config.NewWriter that writes format f to ws.
func writerTo(f remux.Format, ws sink) func(video, audio *mux.TrackInfo) (mux.Writer, error) {
	return func(video, audio *mux.TrackInfo) (mux.Writer, error) {
		return remux.NewWriter(f, ws, video, audio, remux.WriterOptions{})
	}
}

// muxOnce records one pass of the capture into a finished file in f.
func muxOnce(c *capture, format remux.Format, f *memFile) error {
	m, err := c.newMuxer(writerTo(format, f))
	if err != nil {
		return err
	}
	err = c.replay(m, 0, 0)
	if _, cerr := m.Close(); err == nil {
		err = cerr
	}
	return err
}

// perPacket reports ns, allocations and real-time speed per packet for n
// packets carrying media of the given length, measured since before.
func perPacket(b *testing.B, before *runtime.MemStats, n int, media time.Duration) {
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	elapsed := b.Elapsed()
	b.ReportMetric(float64(elapsed.Nanoseconds())/float64(n), "ns/packet")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(n), "allocs/packet")
	b.ReportMetric(media.Seconds()/elapsed.Seconds(), "x-realtime")
}

// BenchmarkPipeline replays each clean capture from memory through
// depacketizing, alignment and a writer into a finished in-memory file: one
// op is the whole 10 s capture, from the first packet to the finished
// file, repeats times. x-ffmpeg is how many times faster per media second
// this is than ffmpeg copying the same streams (see ffmpegCopy), measured
// in the same run.
func BenchmarkPipeline(b *testing.B) {
	baselines := baselines{}
	forEachCapture(b, func(b *testing.B, c *capture, format remux.Format) {
		f := &memFile{}
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N * repeats {
			f.reset()
			if err := muxOnce(c, format, f); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		media := time.Duration(b.N*repeats) * c.media
		perPacket(b, &before, b.N*repeats*c.packets, media)
		b.ReportMetric(baselines.get(b, c, format).Seconds()/(b.Elapsed().Seconds()/media.Seconds()), "x-ffmpeg")
	})
}

// BenchmarkSteady measures a recording in steady state: the capture is
// replayed again and again as one continuous stream (timestamps, sequence
// numbers and arrivals shifted each pass) into one open writer that
// discards its bytes. Two passes run before the timer starts; one op is
// repeats further passes, and the metrics are per packet. x-ffmpeg
// compares with ffmpeg's copy as in BenchmarkPipeline: what a long
// recording costs once opening and finishing its file are spread thin.
func BenchmarkSteady(b *testing.B) {
	baselines := baselines{}
	forEachCapture(b, func(b *testing.B, c *capture, format remux.Format) {
		m, err := c.newMuxer(writerTo(format, &discardFile{}))
		if err != nil {
			b.Fatal(err)
		}
		for pass := range 2 {
			if err := c.replay(m, pass, 0); err != nil {
				b.Fatal(err)
			}
		}
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		b.ResetTimer()
		for i := range b.N * repeats {
			if err := c.replay(m, i+2, 0); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		media := time.Duration(b.N*repeats) * c.media
		perPacket(b, &before, b.N*repeats*c.packets, media)
		abandon(m)
		b.ReportMetric(baselines.get(b, c, format).Seconds()/(b.Elapsed().Seconds()/media.Seconds()), "x-ffmpeg")
	})
}

// baselines caches, per capture and format, ffmpeg's time per media second
// for one benchmark function (the testing package runs each sub-benchmark
// several times).
type baselines map[string]time.Duration

// get returns the baseline of a capture written in format, measuring it the
// first time: our finished file, remuxed by ffmpeg.
func (bl baselines) get(b *testing.B, c *capture, format remux.Format) time.Duration {
	key := c.name + "/" + string(format)
	if d, ok := bl[key]; ok {
		return d
	}
	f := &memFile{}
	if err := muxOnce(c, format, f); err != nil {
		b.Fatal(err)
	}
	d, err := ffmpegCopy(b.TempDir(), f.buf, format, ffmpegTarget(c, format), c.media)
	if err != nil {
		b.Fatal(err)
	}
	bl[key] = d
	return d
}

// openRecordings is how many recordings BenchmarkOpenRecordings holds open.
const openRecordings = 32

// BenchmarkOpenRecordings measures the memory an open recording holds: one
// op opens openRecordings muxers with writers that discard their bytes,
// feeds each 5.5 s of a capture (mid-stream, between flushes), and reports
// the growth of live heap divided by their number (B/recording). The
// unflushed fragment is at most one flush interval of media (1 s); its
// size is reported as fragmentB and subtracted in B/recording-net.
func BenchmarkOpenRecordings(b *testing.B) {
	forEachCapture(b, func(b *testing.B, c *capture, format remux.Format) {
		var perRec float64
		for range b.N {
			perRec = openAndMeasure(b, c, format)
		}
		frag := float64(c.mediaBytes()) / c.media.Seconds()
		b.ReportMetric(perRec, "B/recording")
		b.ReportMetric(frag, "fragmentB")
		b.ReportMetric(perRec-frag, "B/recording-net")
	})
}

// openAndMeasure opens openRecordings recordings mid-stream and returns the
// live heap each holds.
func openAndMeasure(b *testing.B, c *capture, format remux.Format) float64 {
	muxers := make([]*rtpmux.Muxer, 0, openRecordings)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range openRecordings {
		m, err := c.newMuxer(writerTo(format, &discardFile{}))
		if err != nil {
			b.Fatal(err)
		}
		if err := c.replay(m, 0, 5500*time.Millisecond); err != nil {
			b.Fatal(err)
		}
		muxers = append(muxers, m)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	for _, m := range muxers {
		abandon(m)
	}
	return float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / openRecordings
}

// abandon closes a muxer whose writer discarded its bytes. Its error is
// not checked: finishing an MP4 reads the file back, which a discardFile
// cannot do, and finishing is not what the callers measure.
func abandon(m *rtpmux.Muxer) {
	_, _ = m.Close()
}
