package ingestbench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kiroku-sfu/kiroku/loadgen"
)

// Settings, overridable from the environment for quick runs.
const (
	windowEnv     = "KIROKU_INGEST_WINDOW"     // measurement window, a Go duration (default 20s)
	publishersEnv = "KIROKU_INGEST_PUBLISHERS" // publisher counts, comma separated (default 8,16)
	warmupEnv     = "KIROKU_INGEST_WARMUP"     // time from the last publisher's connection to the window (default 5s)
	// variantsEnv limits the run to the variants whose names contain one
	// of these comma-separated words (e.g. "kiroku,floor"); default all.
	variantsEnv = "KIROKU_INGEST_VARIANTS"
	// keepEnv=1 keeps each window's directory (configurations, logs,
	// recordings) for inspection; default: removed after the window.
	keepEnv = "KIROKU_INGEST_KEEP"
	// sfuConfEnv holds extra sora.conf lines for every kiroku variant
	// (the same variable as bench/sfu's).
	sfuConfEnv = "KIROKU_BENCH_SFU_CONF"
	// bConfEnv, when set, adds kiroku's variants again with these
	// sora.conf lines too ("B: …" rows), each compared with its A
	// variant, paired in the same run: for trying a change of kiroku's
	// receive path against the path it replaces.
	bConfEnv = "KIROKU_INGEST_B_CONF"
	// bSFUEnv, when set, names a cmd/sfu binary (built from another
	// commit) that the B rows run instead of this tree's, with or without
	// bConfEnv's lines: two builds measured interleaved in one run.
	bSFUEnv = "KIROKU_INGEST_B_SFU"
)

// benchEnv is what every measurement of a run shares.
type benchEnv struct {
	ns     *serverNS
	sfu    string // cmd/sfu built for this run
	bSFU   string // another build for the B rows (bSFUEnv); empty: none
	clip   *loadgen.Clip
	window time.Duration
	warmup time.Duration
	counts []int
	chosen []variant
}

// BenchmarkIngest measures kiroku (recording off, WebM, MP4), Janus
// (record off, on) and the floor receiving N publishers of the clip, one
// b.Loop iteration a repetition (make bench: -benchtime 3x), every
// variant once per repetition in an order rotated by the repetition, and
// prints the table of medians, ranges and paired ratios.
func BenchmarkIngest(b *testing.B) {
	env := setUp(b)
	var samples []sample
	for rep := 0; b.Loop(); rep++ {
		for _, n := range env.counts {
			for k := range env.chosen {
				v := env.chosen[(k+rep)%len(env.chosen)]
				s := env.measureOne(b, v, n, rep)
				samples = append(samples, s)
				if s.wall == 0 {
					fmt.Fprintf(os.Stderr, "ingest: rep %d N=%d %-40s failed\n", rep, n, v.name)
					continue
				}
				fmt.Fprintf(os.Stderr, "ingest: rep %d N=%d %-40s %6.3f %%/pub %6.2f µs/pkt %5.2f wake/pkt %7.0f pkt/s (%.3f of sent) rec %+.1f MB of %.1f MB sent, restarts %d\n",
					rep, n, v.name, s.corePercent(), s.usPerPacket(), s.wakeupsPerPacket(), s.rate(), s.delivered(), float64(s.recorded)/1e6, s.sentMB, s.restarts)
			}
		}
	}
	rows := summarize(samples, env.chosen, env.counts)
	fmt.Printf("\ningest: %d publishers of VP8 720p30 2.5 Mbit/s + Opus each, no subscribers, %v windows after %v, server CPU from /proc/PID/stat\n\n",
		env.counts, env.window, env.warmup)
	printTable(os.Stdout, rows)
	for _, r := range rows {
		if r.total > 0 && r.valid == 0 {
			b.Errorf("N=%d %s: no valid window (the server did not receive the media)", r.n, r.name)
		}
		if r.perJanus.med > 0 {
			b.ReportMetric(r.perJanus.med, metricName(r, "x-janus"))
		}
		if r.perBase.med > 0 {
			b.ReportMetric(r.perBase.med, metricName(r, "x-A"))
		}
		if (r.name == kirokuWebM || r.name == kirokuOff) && r.perFloor.med > 0 {
			b.ReportMetric(r.perFloor.med, metricName(r, "x-floor"))
		}
	}
}

// metricName is a unit for b.ReportMetric: no spaces.
func metricName(r row, what string) string {
	name := strings.NewReplacer("kiroku, recording ", "kiroku-", " ", "").Replace(r.name)
	return fmt.Sprintf("%s-%s-N%d", name, what, r.n)
}

// measureOne starts variant name with n publishers, measures one window
// and stops it. A window that fails (a publisher that cannot connect on a
// saturated machine, say) is logged and counts as invalid, so one bad
// window does not end a long run; a variant without any valid window
// fails the benchmark.
func (e *benchEnv) measureOne(b *testing.B, v variant, n, rep int) sample {
	name := v.name
	s := sample{variant: name, n: n, rep: rep, records: v.record != ""}
	dir, err := os.MkdirTemp("", "kiroku-ingest-")
	if err != nil {
		b.Fatal(err)
	}
	defer func() { // recordings of 16 publishers take 100 MB a window
		if os.Getenv(keepEnv) == "1" {
			b.Logf("N=%d %s: kept %s", n, name, dir)
		} else if err := os.RemoveAll(dir); err != nil {
			b.Error(err)
		}
	}()
	t, err := e.start(v, dir, n)
	if err != nil {
		b.Logf("N=%d %s: %v", n, name, err)
		return s
	}
	got, err := measure(t, s, e.warmup, e.window)
	if cerr := t.Close(); cerr != nil {
		b.Logf("N=%d %s: close: %v", n, name, cerr)
	}
	if err != nil {
		b.Logf("N=%d %s: %v", n, name, err)
		return s
	}
	return got
}

// start starts variant v with n publishers, its files under dir.
func (e *benchEnv) start(v variant, dir string, n int) (target, error) {
	switch v.server {
	case serverKiroku:
		binary := e.sfu
		if v.otherBinary {
			binary = e.bSFU
		}
		return startKiroku(e.ns, binary, dir, e.clip, n, v.record, v.conf, os.Getenv(keepEnv) == "1")
	case serverJanus:
		return startJanus(e.ns, dir, e.clip, n, v.record != "")
	case serverFloor:
		return startFloor(e.ns, e.clip, n)
	}
	return nil, fmt.Errorf("variant %q: unknown server %q", v.name, v.server)
}

// setUp checks the tools, makes the servers' namespace, builds cmd/sfu
// and loads (or makes) the clip.
func setUp(b *testing.B) *benchEnv {
	b.Helper()
	for _, tool := range []string{"ffmpeg", janusBinary} {
		if _, err := exec.LookPath(tool); err != nil {
			b.Fatalf("%s is required (make deps-bench): %v", tool, err)
		}
	}
	e := &benchEnv{window: 20 * time.Second, warmup: 5 * time.Second, counts: []int{8, 16}}
	var err error
	if e.window, err = durationEnv(windowEnv, e.window); err == nil {
		e.warmup, err = durationEnv(warmupEnv, e.warmup)
	}
	if err == nil {
		e.counts, err = countsEnv(e.counts)
	}
	if err != nil {
		b.Fatal(err)
	}
	e.bSFU = os.Getenv(bSFUEnv)
	if e.bSFU != "" {
		if _, err := os.Stat(e.bSFU); err != nil {
			b.Fatalf("%s: %v", bSFUEnv, err)
		}
	}
	e.chosen = chooseVariants(os.Getenv(variantsEnv), allVariants(os.Getenv(sfuConfEnv), os.Getenv(bConfEnv), e.bSFU != ""))
	if e.clip, err = cachedClip(); err != nil {
		b.Fatal(err)
	}
	e.sfu = filepath.Join(b.TempDir(), "sfu")
	if out, err := exec.Command("go", "build", "-o", e.sfu, "../../cmd/sfu").CombinedOutput(); err != nil {
		b.Fatalf("build cmd/sfu: %v\n%s", err, out)
	}
	if e.ns, err = newServerNS(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = e.ns.Close() })
	if err := recyclePages(os.TempDir(), recycledPages(slices.Max(e.counts), e.warmup, e.window)); err != nil {
		b.Fatal(err)
	}
	return e
}

func durationEnv(name string, def time.Duration) (time.Duration, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s=%q is not a positive duration", name, v)
	}
	return d, nil
}

func countsEnv(def []int) ([]int, error) {
	v := os.Getenv(publishersEnv)
	if v == "" {
		return def, nil
	}
	var out []int
	for f := range strings.SplitSeq(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 64 {
			return nil, fmt.Errorf("%s=%q: want publisher counts from 1 to 64", publishersEnv, v)
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return out, nil
}

// chooseVariants is every variant of all whose name contains one of the
// comma-separated words of filter, or all for an empty filter.
func chooseVariants(filter string, all []variant) []variant {
	if filter == "" {
		return all
	}
	var out []variant
	for _, v := range all {
		for w := range strings.SplitSeq(filter, ",") {
			if w = strings.TrimSpace(w); w != "" && strings.Contains(strings.ToLower(v.name), strings.ToLower(w)) {
				out = append(out, v)
				break
			}
		}
	}
	return out
}
