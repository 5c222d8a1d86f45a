package uploader

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/kiroku-sfu/kiroku/uploader/scan"
)

// TestStorageOutage: MinIO stops for 30 s while a recording is being
// uploaded and more files arrive; after it returns everything is uploaded,
// nothing is lost and no webhook is sent twice.
func TestStorageOutage(t *testing.T) {
	e := newEnv(t)
	rec := newRecording(t, e.archive, "R")
	rec.split(t, "A", 1, 100_000)
	rec.split(t, "A", 2, 100_000)
	_, stop := e.start(e.config())
	waitFor(t, 20*time.Second, "the first two splits", func() bool { return len(e.hooks.snapshot()) == 2 })

	e.minio.Stop()
	rec.split(t, "A", 3, 6<<20)
	rec.split(t, "A", 4, 100_000)
	rec.splitEnd(t, "A", 4)
	rec.report(t)
	time.Sleep(30 * time.Second)
	for name := range rec.files {
		if name >= "split-archive-A_0003" && !exists(filepath.Join(rec.dir, name)) {
			t.Fatalf("%s gone during the outage", name)
		}
	}
	e.minio.Restart()

	waitFor(t, 30*time.Second, "the recording after the outage", func() bool { return !exists(rec.dir) })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	e.checkObjects(rec)
	seen := map[string]int{}
	for _, c := range e.hooks.snapshot() {
		seen[c.filename]++
	}
	if len(seen) != 6 {
		t.Errorf("webhooks for %d files, want 6: %v", len(seen), seen)
	}
	for f, n := range seen {
		if n != 1 {
			t.Errorf("%d webhooks for %s", n, f)
		}
	}
}

// TestWebhookDownRetriesOnlyTheWebhook: a failing webhook endpoint keeps
// the files; when it recovers the event is sent once and nothing is
// re-uploaded.
func TestWebhookDownRetriesOnlyTheWebhook(t *testing.T) {
	e := newEnv(t)
	e.hooks.setFail(true)
	rec := newRecording(t, e.archive, "R")
	rec.archive(t, "A", 1000)
	cfg := e.config()
	cfg.Hook.MaxAttempts = 2
	u, stop := e.start(cfg)
	defer stop()
	waitFor(t, 20*time.Second, "webhook failures", func() bool { return value(u.metrics.failures.WithLabelValues(classWebhook)) >= 2 })
	if !exists(filepath.Join(rec.dir, "archive-A.mp4")) {
		t.Fatal("files deleted before the webhook succeeded")
	}
	uploaded := value(u.metrics.bytes)
	e.hooks.setFail(false)
	waitFor(t, 20*time.Second, "the webhook", func() bool { return len(e.hooks.snapshot()) == 1 })
	waitFor(t, 5*time.Second, "local files removed", func() bool { return !exists(filepath.Join(rec.dir, "archive-A.json")) })
	if after := value(u.metrics.bytes); after != uploaded {
		t.Errorf("re-uploaded %v bytes after a webhook failure", after-uploaded)
	}
	e.checkObjects(rec)
}

// TestGracefulShutdownAbortsMultipart: a stop during a slow multipart
// upload aborts it after shutdown_timeout, leaves no multipart upload in the
// bucket and keeps the local files.
func TestGracefulShutdownAbortsMultipart(t *testing.T) {
	e := newEnv(t)
	rec := newRecording(t, e.archive, "R")
	rec.archive(t, "A", 24<<20)
	cfg := e.config()
	cfg.Store.RateLimitMbps = 40 // about 5 s for 24 MiB
	cfg.ShutdownTimeout = 300 * time.Millisecond
	_, stop := e.start(cfg)
	waitFor(t, 20*time.Second, "a multipart upload to start", func() bool { return len(e.multipartUploads()) > 0 })
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("stop took %v", took)
	}
	if n := len(e.multipartUploads()); n != 0 {
		t.Errorf("%d multipart uploads left in the bucket", n)
	}
	for name := range rec.files {
		if !exists(filepath.Join(rec.dir, name)) {
			t.Errorf("%s removed by an aborted upload", name)
		}
	}
	if n := len(e.hooks.snapshot()); n != 0 {
		t.Errorf("%d webhooks for an aborted upload", n)
	}
}

func (e *env) multipartUploads() []string {
	out, err := e.store.Client().ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(e.bucket)})
	if err != nil {
		e.t.Fatal(err)
	}
	var keys []string
	for _, u := range out.Uploads {
		keys = append(keys, aws.ToString(u.Key))
	}
	return keys
}

// TestVanishedFiles: a job whose media or JSON disappeared is reported as
// vanished, not retried and not a crash.
func TestVanishedFiles(t *testing.T) {
	e := newEnv(t)
	u, err := New(context.Background(), e.config(), testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	rec := newRecording(t, e.archive, "R")
	rec.archive(t, "A", 1000)
	job := scan.Job{Kind: scan.Archive, RecordingID: "R", JSONName: "archive-A.json", Media: []string{"archive-A.mp4"}, ConnectionID: "A"}
	if err := os.Remove(filepath.Join(rec.dir, "archive-A.mp4")); err != nil {
		t.Fatal(err)
	}
	if out := u.process(context.Background(), job); out.class != classVanished || !errors.Is(out.err, errVanished) {
		t.Errorf("media gone: class %q err %v", out.class, out.err)
	}
	if err := os.Remove(filepath.Join(rec.dir, "archive-A.json")); err != nil {
		t.Fatal(err)
	}
	if out := u.process(context.Background(), job); out.class != classVanished {
		t.Errorf("json gone: class %q err %v", out.class, out.err)
	}
	if n := len(e.objects()); n != 0 {
		t.Errorf("%d objects stored", n)
	}
}

// TestBadMetadataQuarantined: a settled JSON naming another recording is
// quarantined with the reason and its files are kept.
func TestBadMetadataQuarantined(t *testing.T) {
	e := newEnv(t)
	rec := newRecording(t, e.archive, "R")
	rec.write(t, "archive-A.mp4", []byte("media"))
	rec.write(t, "archive-A.json", []byte(`{"recording_id":"OTHER","connection_id":"A"}`))
	old := time.Now().Add(-time.Minute)
	if err := os.Chtimes(filepath.Join(rec.dir, "archive-A.json"), old, old); err != nil {
		t.Fatal(err)
	}
	u, stop := e.start(e.config())
	defer stop()
	waitQuarantined(t, u, "recording_id")
	if !exists(filepath.Join(rec.dir, "archive-A.mp4")) {
		t.Error("media removed")
	}
}

// TestJSONWrittenInPlace: a JSON still being written in place (no rename)
// is retried, not quarantined, and uploaded once complete.
func TestJSONWrittenInPlace(t *testing.T) {
	e := newEnv(t)
	rec := newRecording(t, e.archive, "R")
	rec.write(t, "archive-A.mp4", []byte("media"))
	full := rec.meta(map[string]any{"connection_id": "A", "filename": "R/archive-A.mp4"})
	path := filepath.Join(rec.dir, "archive-A.json")
	if err := os.WriteFile(path, full[:len(full)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	u, stop := e.start(e.config())
	defer stop()
	waitFor(t, 10*time.Second, "a failed attempt", func() bool { return value(u.metrics.failures.WithLabelValues(classTransient)) > 0 })
	if err := os.WriteFile(path, full, 0o644); err != nil {
		t.Fatal(err)
	}
	rec.files["archive-A.json"] = full
	waitFor(t, 10*time.Second, "the upload", func() bool { return len(e.hooks.snapshot()) == 1 })
	if q := u.Quarantined(); len(q) != 0 {
		t.Errorf("quarantined: %v", q)
	}
	e.checkObjects(rec)
}

// TestDrain: -once mode uploads what is ready and returns; with a wrong
// bucket it returns an error and keeps the files.
func TestDrain(t *testing.T) {
	e := newEnv(t)
	rec := newRecording(t, e.archive, "R")
	rec.archive(t, "A", 1000)
	rec.report(t)

	bad := e.config()
	bad.Store.Bucket = "missing"
	u, err := New(context.Background(), bad, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := u.Drain(context.Background()); err == nil {
		t.Fatal("Drain with a missing bucket reported success")
	}
	u.Close()
	if !exists(filepath.Join(rec.dir, "archive-A.mp4")) {
		t.Fatal("files removed after a failed drain")
	}

	u, err = New(context.Background(), e.config(), testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	if err := u.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	if exists(rec.dir) {
		t.Error("recording directory left after a drain")
	}
	e.checkObjects(rec)
}

// TestFileShrinksDuringUpload: a media file truncated while it is being
// sent fails that attempt (counted, logged with the cause), and the retry
// uploads what is on disk; nothing panics and the object matches the file.
func TestFileShrinksDuringUpload(t *testing.T) {
	e := newEnv(t)
	rec := newRecording(t, e.archive, "R")
	rec.archive(t, "A", 2<<20)
	cfg := e.config()
	cfg.Store.RateLimitMbps = 8 // about 2 s for 2 MiB
	cfg.AfterUpload = ActionKeep
	u, stop := e.start(cfg)
	defer stop()
	time.Sleep(300 * time.Millisecond)
	media := filepath.Join(rec.dir, "archive-A.mp4")
	if err := os.Truncate(media, 1<<20); err != nil {
		t.Fatal(err)
	}
	rec.files["archive-A.mp4"] = rec.files["archive-A.mp4"][:1<<20]
	waitFor(t, 20*time.Second, "the upload of the shrunk file", func() bool { return len(e.hooks.snapshot()) == 1 })
	if value(u.metrics.failures.WithLabelValues(classTransient)) < 1 {
		t.Error("the interrupted attempt was not counted")
	}
	e.checkObjects(rec)
}

// TestDrainStopped: a drain whose context ends reports the jobs it leaves.
func TestDrainStopped(t *testing.T) {
	e := newEnv(t)
	rec := newRecording(t, e.archive, "R")
	rec.archive(t, "A", 8<<20)
	cfg := e.config()
	cfg.Store.RateLimitMbps = 8
	cfg.ShutdownTimeout = 100 * time.Millisecond
	u, err := New(context.Background(), cfg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if err := u.Drain(ctx); err == nil || !strings.Contains(err.Error(), "1 jobs left") {
		t.Fatalf("Drain stopped early: %v", err)
	}
	if !exists(filepath.Join(rec.dir, "archive-A.mp4")) {
		t.Error("files removed by a stopped drain")
	}
}
