package media

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/kiroku-sfu/kiroku/mux/remux"
)

// longLength is a long capture: the 10 s fixture repeated passes times,
// muxed runs times per op (short runs are the ones a busy machine's
// hiccups distort, so they are timed more often).
type longLength struct {
	name   string
	passes int
	runs   int
}

// longLengths are the capture lengths BenchmarkMuxLong measures.
var longLengths = []longLength{{"5m", 30, 3}, {"60m", 360, 1}}

// buildSFU builds cmd/sfu into dir and returns the binary's path.
func buildSFU(dir string) (string, error) {
	bin := filepath.Join(dir, "sfu")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/kiroku-sfu/kiroku/cmd/sfu").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("bench: build cmd/sfu: %w: %s", err, out)
	}
	return bin, nil
}

// longCase is one sub-benchmark of BenchmarkMuxLong: a long capture on
// disk muxed into format by the sfu binary, and ffmpeg copying the result.
type longCase struct {
	sfu     string
	capture string // path of the .rtpdump
	c       *capture
	format  remux.Format
	length  longLength
	dir     string // where the outputs go
}

// result is where the launcher leaves its figures.
func (lc *longCase) result() string { return filepath.Join(lc.dir, "launch.txt") }

// muxSummary is the part of `sfu mux -json` the benchmark checks.
type muxSummary struct {
	DurationMS    int64             `json:"duration_ms"`
	FramesDropped int               `json:"frames_dropped"`
	Gaps          []json.RawMessage `json:"gaps"`
}

// ours runs `sfu mux` on the capture into out and checks that the file
// holds the whole capture: no gap, nothing dropped, the full duration.
// Like ffmpeg's, the output file is new: a file left by the previous run
// is removed first, untimed.
func (lc *longCase) ours(out string) (run, error) {
	if err := removeIfThere(out); err != nil {
		return run{}, err
	}
	r, stdout, err := runProcess(lc.result(), lc.sfu, "mux", "-format", string(lc.format), "-json", "-o", out, lc.capture)
	if err != nil {
		return r, err
	}
	var s muxSummary
	if err := json.Unmarshal(stdout, &s); err != nil {
		return r, fmt.Errorf("bench: sfu mux summary %q: %w", stdout, err)
	}
	want := time.Duration(lc.length.passes) * lc.c.loop.span // every pass lasts the span exactly
	got := time.Duration(s.DurationMS) * time.Millisecond
	if len(s.Gaps) > 0 || s.FramesDropped > 0 || (got-want).Abs() > 100*time.Millisecond {
		return r, fmt.Errorf("bench: %s muxed to %v with %d gaps and %d frames dropped, want %v whole",
			lc.capture, got, len(s.Gaps), s.FramesDropped, want)
	}
	return r, nil
}

// ffmpeg runs `ffmpeg -c copy` from in (our file) into the target format.
func (lc *longCase) ffmpeg(in string) (run, error) {
	to := ffmpegTarget(lc.c, lc.format)
	out := filepath.Join(lc.dir, "copy."+string(to))
	if err := removeIfThere(out); err != nil {
		return run{}, err
	}
	r, _, err := runProcess(lc.result(), "ffmpeg", "-nostdin", "-v", "error", "-y", "-i", in, "-map", "0", "-c", "copy", "-f", string(to), out)
	return r, err
}

// removeIfThere removes path unless it does not exist.
func removeIfThere(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("bench: %w", err)
	}
	return nil
}

// best keeps the fastest wall and CPU times and the largest RSS of
// several runs.
type best struct{ run }

func (b *best) add(r run) {
	if b.wall == 0 || r.wall < b.wall {
		b.wall = r.wall
	}
	if b.cpu == 0 || r.cpu < b.cpu {
		b.cpu = r.cpu
	}
	b.rss = max(b.rss, r.rss)
}

// BenchmarkMuxLong runs `sfu mux` (the built cmd/sfu binary, so exactly
// what a user runs) on captures of 5 and 60 minutes, made by repeating each
// clean 10 s fixture with its streams continued (writeLongCapture, in a
// temporary directory), and `ffmpeg -c copy` on the resulting file, each
// as a process of its own, alternately, one op being one run of each (three
// for the 5-minute captures).
// Both times are whole process lives: start-up, reading the input from the
// file system, writing the output file, exiting. x-ffmpeg is ffmpeg's best
// wall time over ours, x-ffmpeg-cpu the same for CPU time (user + system,
// every thread), which a busy machine disturbs less; rss-MiB and ffmpeg-rss-MiB are the processes' peak
// resident sets (the largest of the runs), and rss-vs-5m divides a 60-minute
// peak RSS by the 5-minute one of the same fixture and format.
func BenchmarkMuxLong(b *testing.B) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		b.Fatalf("bench: ffmpeg is required (run `make deps`): %v", err)
	}
	dir := b.TempDir()
	sfu, err := buildSFU(dir)
	if err != nil {
		b.Fatal(err)
	}
	for _, name := range cleanFixtures {
		c, err := loadCapture(name)
		if err != nil {
			b.Fatal(err)
		}
		rss5m := map[remux.Format]int64{}
		for _, l := range longLengths {
			path, err := writeLongCapture(dir, c, l.passes)
			if err != nil {
				b.Fatal(err)
			}
			for _, f := range formats {
				if !supported(c, f) {
					continue
				}
				lc := &longCase{sfu: sfu, capture: path, c: c, format: f, length: l, dir: dir}
				b.Run(name+"/"+string(f)+"/"+l.name, func(b *testing.B) {
					rss := lc.bench(b)
					if l.passes == longLengths[0].passes {
						rss5m[f] = rss
					} else if rss5m[f] > 0 {
						b.ReportMetric(float64(rss)/float64(rss5m[f]), "rss-vs-5m")
					}
				})
			}
			if err := os.Remove(path); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// bench times b.N runs of ours and of ffmpeg, alternately, and reports the
// figures; it returns our peak RSS.
func (lc *longCase) bench(b *testing.B) int64 {
	ourFile := filepath.Join(lc.dir, "ours."+string(lc.format))
	defer os.Remove(ourFile)
	var us, them best
	b.ResetTimer()
	for range b.N * lc.length.runs {
		r, err := lc.ours(ourFile)
		if err != nil {
			b.Fatal(err)
		}
		us.add(r)
		b.StopTimer()
		r, err = lc.ffmpeg(ourFile)
		if err != nil {
			b.Fatal(err)
		}
		them.add(r)
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(them.wall.Seconds()/us.wall.Seconds(), "x-ffmpeg")
	b.ReportMetric(them.cpu.Seconds()/us.cpu.Seconds(), "x-ffmpeg-cpu")
	b.ReportMetric(msec(us.wall), "best-ms")
	b.ReportMetric(msec(them.wall), "ffmpeg-best-ms")
	b.ReportMetric(mib(us.rss), "rss-MiB")
	b.ReportMetric(mib(them.rss), "ffmpeg-rss-MiB")
	return us.rss
}

func msec(d time.Duration) float64 { return math.Round(d.Seconds()*1e4) / 10 }

func mib(n int64) float64 { return math.Round(float64(n)/(1<<20)*10) / 10 }

// BenchmarkMuxLongInProcess runs what `sfu mux` runs, remux.Capture, on
// the captures of BenchmarkMuxLong inside the benchmark process: no
// process start-up and no ffmpeg, for profiling (-cpuprofile,
// -memprofile) and for allocations per op.
func BenchmarkMuxLongInProcess(b *testing.B) {
	dir := b.TempDir()
	for _, name := range cleanFixtures {
		c, err := loadCapture(name)
		if err != nil {
			b.Fatal(err)
		}
		for _, l := range longLengths {
			path, err := writeLongCapture(dir, c, l.passes)
			if err != nil {
				b.Fatal(err)
			}
			for _, f := range formats {
				if !supported(c, f) {
					continue
				}
				out := filepath.Join(dir, "ours."+string(f))
				b.Run(name+"/"+string(f)+"/"+l.name, func(b *testing.B) {
					b.ReportAllocs()
					for range b.N {
						if _, err := remux.Capture(path, f, out, nil); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
			if err := os.Remove(path); err != nil {
				b.Fatal(err)
			}
		}
	}
}
