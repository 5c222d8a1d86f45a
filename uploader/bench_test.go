package uploader

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/kiroku-sfu/kiroku/uploader/internal/miniotest"
)

// Benchmarks compare the uploader (the cmd/uploader binary in -once mode,
// so its peak RSS is its own) with `curl --aws-sigv4 -T` uploading the same
// files one by one to the same MinIO in the same run. They report MB/s of
// both, their ratio and the uploader's peak RSS.

const (
	smallFiles = 200
	smallSize  = 3 << 20
	largeSize  = 1 << 30
)

// BenchmarkSmallFiles: 200 split files of 3 MB in one recording.
func BenchmarkSmallFiles(b *testing.B) {
	e := newEnv(b)
	bin := buildCommand(b)
	conf := filepath.Join(b.TempDir(), "uploader.conf")
	e.writeConfig(b, conf, map[string]string{"webhook_endpoint_url": ""})
	src := filepath.Join(b.TempDir(), "media")
	writeLarge(b, src, smallSize)
	var up, base time.Duration
	var rss int64
	runs := 0
	for i := 0; b.Loop(); i++ {
		runs++
		rid := fmt.Sprintf("S%d", i)
		paths := e.linkSplits(b, src, rid)
		base += curlAll(b, e, rid, paths)
		d, r := runOnce(b, bin, conf)
		up += d
		rss = max(rss, r)
	}
	report(b, runs*smallFiles*smallSize, up, base, rss)
}

// BenchmarkLargeFile: one 1 GiB archive.
func BenchmarkLargeFile(b *testing.B) {
	e := newEnv(b)
	bin := buildCommand(b)
	conf := filepath.Join(b.TempDir(), "uploader.conf")
	e.writeConfig(b, conf, map[string]string{"webhook_endpoint_url": "", "upload_part_size_mb": "64", "upload_part_concurrency": "2"})
	src := filepath.Join(b.TempDir(), "media")
	writeLarge(b, src, largeSize)
	var up, base time.Duration
	var rss int64
	runs := 0
	for i := 0; b.Loop(); i++ {
		runs++
		rec := newRecording(b, e.archive, fmt.Sprintf("L%d", i))
		media := filepath.Join(rec.dir, "archive-A.mp4")
		if err := os.Link(src, media); err != nil {
			b.Fatal(err)
		}
		rec.write(b, "archive-A.json", rec.meta(map[string]any{"connection_id": "A", "filename": rec.rid + "/archive-A.mp4"}))
		base += curlAll(b, e, rec.rid, []string{media, filepath.Join(rec.dir, "archive-A.json")})
		d, r := runOnce(b, bin, conf)
		up += d
		rss = max(rss, r)
	}
	report(b, runs*largeSize, up, base, rss)
}

// BenchmarkLatency: a watching uploader sees 200 split files of 3 MB
// arrive 100 ms apart (30 MB/s, a busy recorder) and reports p50/p99 from each JSON's rename to its
// webhook (sent after the object is verified).
func BenchmarkLatency(b *testing.B) {
	e := newEnv(b)
	src := filepath.Join(b.TempDir(), "media")
	writeLarge(b, src, smallSize)
	cfg := e.config()
	cfg.Store.PartSizeMB = 16
	_, stop := e.start(cfg)
	defer stop()
	var lat []time.Duration
	for i := 0; b.Loop(); i++ {
		rid := fmt.Sprintf("T%d", i)
		written := e.paceSplits(b, src, rid, 100*time.Millisecond)
		waitFor(b, 2*time.Minute, "every webhook", func() bool { return len(e.hooks.snapshot()) >= (i+1)*smallFiles })
		for _, c := range e.hooks.snapshot() {
			if at, ok := written[c.filename]; ok {
				lat = append(lat, c.at.Sub(at))
			}
		}
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Milliseconds()), "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Milliseconds()), "p99-ms")
}

// linkSplits hard-links src as the 200 splits of recording rid, JSON last,
// and returns every file's path.
func (e *env) linkSplits(b *testing.B, src, rid string) []string {
	rec := newRecording(b, e.archive, rid)
	var paths []string
	for i := 1; i <= smallFiles; i++ {
		stem := fmt.Sprintf("split-archive-A_%04d", i)
		media := filepath.Join(rec.dir, stem+".webm")
		if err := os.Link(src, media); err != nil {
			b.Fatal(err)
		}
		rec.write(b, stem+".json", rec.meta(map[string]any{"connection_id": "A", "filename": rid + "/" + stem + ".webm"}))
		paths = append(paths, media, filepath.Join(rec.dir, stem+".json"))
	}
	return paths
}

// paceSplits writes the splits of rid every interval and returns when each
// JSON appeared, by the webhook's media file name.
func (e *env) paceSplits(b *testing.B, src, rid string, interval time.Duration) map[string]time.Time {
	rec := newRecording(b, e.archive, rid)
	written := map[string]time.Time{}
	for i := 1; i <= smallFiles; i++ {
		stem := fmt.Sprintf("split-archive-A_%04d", i)
		if err := os.Link(src, filepath.Join(rec.dir, stem+".webm")); err != nil {
			b.Fatal(err)
		}
		rec.write(b, stem+".json", rec.meta(map[string]any{"connection_id": "A", "filename": rid + "/" + stem + ".webm"}))
		written[rid+"/"+stem+".webm"] = time.Now()
		time.Sleep(interval)
	}
	return written
}

// curlAll uploads paths one by one with curl and returns the time taken.
func curlAll(b *testing.B, e *env, rid string, paths []string) time.Duration {
	start := time.Now()
	for _, p := range paths {
		url := e.minio.Endpoint + "/" + e.bucket + "/curl/" + rid + "/" + filepath.Base(p)
		out, err := exec.Command("curl", "-sS", "--fail", "--aws-sigv4", "aws:amz:us-east-1:s3",
			"--user", miniotest.User+":"+miniotest.Password,
			"-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD", "-T", p, url).CombinedOutput()
		if err != nil {
			b.Fatalf("curl %s: %v\n%s", url, err, out)
		}
	}
	return time.Since(start)
}

// runOnce runs the uploader in -once mode and returns its wall time and
// peak RSS in bytes.
func runOnce(b *testing.B, bin, conf string) (time.Duration, int64) {
	start := time.Now()
	cmd := exec.Command(bin, "-config", conf, "-once")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("uploader -once: %v\n%s", err, out)
	}
	took := time.Since(start)
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if ru == nil {
		b.Fatal("no resource usage for the uploader process")
	}
	return took, ru.Maxrss << 10
}

// report adds the throughputs of total bytes, their ratio and the peak RSS.
func report(b *testing.B, total int, up, base time.Duration, rss int64) {
	upRate := float64(total) / up.Seconds() / 1e6
	baseRate := float64(total) / base.Seconds() / 1e6
	b.ReportMetric(upRate, "uploader-MB/s")
	b.ReportMetric(baseRate, "curl-MB/s")
	b.ReportMetric(upRate/baseRate, "x-curl")
	b.ReportMetric(float64(rss)/(1<<20), "peak-RSS-MiB")
}
