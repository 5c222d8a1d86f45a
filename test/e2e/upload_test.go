package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

const (
	// uploadBucket is the bucket the upload test creates.
	uploadBucket = "recordings"
	// minioUser and minioPassword are the test server's root credentials.
	minioUser     = "kirokutest"
	minioPassword = "kirokutest-secret"
	// uploadWithin is the acceptance bound: every object of an archive is
	// in the bucket this soon after the archive's archive.available.
	uploadWithin = 2 * time.Second
	// headEvery is how often the test asks the bucket for an object.
	headEvery = 20 * time.Millisecond
)

// watch names the objects that must appear in the bucket after one
// webhook of the SFU.
type watch struct {
	event string
	match func(webhook) bool
	keys  []string
}

// sighting is when a key was first seen in the bucket.
type sighting struct {
	key   string
	event string
	after time.Duration // since the event's webhook arrived
	err   error
}

// TestUploadAfterRecording records two pages with cmd/sfu while
// cmd/uploader watches the same archive_dir: every object of an archive
// (media and JSON) must be visible in MinIO within 2 s of the archive's
// archive.available, byte for byte as written, and the report uploaded
// last.
func TestUploadAfterRecording(t *testing.T) {
	const channel = "rec-upload"
	endpoint := startMinIO(t)
	client := s3Client(endpoint)
	ctx := t.Context()
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(uploadBucket)}); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	hooks := &hookLog{}
	srv := startRecServer(t, hooks, "default_recording_format = webm\n")
	uploads := &hookLog{}
	receiver := httptest.NewServer(uploads)
	t.Cleanup(receiver.Close)
	startUploader(t, srv.archive, endpoint, receiver.URL+"/uploaded")

	a := srv.joinAt(t, "a", channel, "VP8", map[string]any{"name": "a"})
	b := srv.joinAt(t, "b", channel, "VP8", map[string]any{"name": "b"})
	expectFlow(t, a, b, "VP8")
	var rec recordingInfo
	srv.api(t, "Sora_20231220.StartRecording", map[string]any{"channel_id": channel}, &rec)
	rid := rec.RecordingID
	watches := []watch{{event: "recording.report",
		match: func(w webhook) bool { return w.data("recording_id") == rid },
		keys:  []string{rid + "/report-" + rid + ".json"}}}
	for _, m := range []*member{a, b} {
		id := m.id
		watches = append(watches, watch{event: "archive.available",
			match: func(w webhook) bool { return w.data("recording_id") == rid && w.Body["connection_id"] == id },
			keys:  []string{rid + "/archive-" + id + ".webm", rid + "/archive-" + id + ".json"}})
	}
	seen := watchBucket(t, client, hooks, watches, 40*time.Second)
	time.Sleep(5 * time.Second)
	reportLast := make(chan error, 1)
	go func() { reportLast <- checkReportLast(ctx, client, watches, 30*time.Second) }()
	srv.api(t, "Sora_20231220.StopRecording", map[string]any{"channel_id": channel}, nil)

	checkLatencies(t, seen())
	if err := <-reportLast; err != nil {
		t.Error(err)
	}
	uploads.waitHook(t, "recording-report.uploaded", 10*time.Second, func(w webhook) bool { return w.Body["recording_id"] == rid })
	checkUploadWebhooks(t, uploads, rid, []string{a.id, b.id})
	checkBucketBytes(t, client, filepath.Join(srv.archive, rid), rid)
}

// watchBucket starts, per watch, a goroutine that waits for the webhook
// and then asks the bucket for each key every headEvery until it is there.
// The returned function waits for them and gives every key's sighting;
// the goroutines also stop when the test ends.
func watchBucket(t *testing.T, client *s3.Client, hooks *hookLog, watches []watch, limit time.Duration) func() []sighting {
	ctx, cancel := context.WithTimeout(t.Context(), limit)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var out []sighting
	for _, w := range watches {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got := sightKeys(ctx, client, hooks, w)
			mu.Lock()
			out = append(out, got...)
			mu.Unlock()
		}()
	}
	wait := func() []sighting {
		wg.Wait()
		cancel()
		mu.Lock()
		defer mu.Unlock()
		sort.Slice(out, func(i, j int) bool { return out[i].key < out[j].key })
		return out
	}
	t.Cleanup(func() { cancel(); wg.Wait() })
	return wait
}

// sightKeys waits for w's webhook, then polls the bucket for w's keys.
func sightKeys(ctx context.Context, client *s3.Client, hooks *hookLog, w watch) []sighting {
	out := make([]sighting, len(w.keys))
	for i, key := range w.keys {
		out[i] = sighting{key: key, event: w.event}
	}
	from, err := webhookTime(ctx, hooks, w)
	tick := time.NewTicker(headEvery)
	defer tick.Stop()
	for left := len(w.keys); err == nil && left > 0; {
		for i := range out {
			if out[i].after == 0 && hasObject(ctx, client, out[i].key) {
				out[i].after = max(time.Since(from), time.Nanosecond)
				left--
			}
		}
		select {
		case <-ctx.Done():
			err = fmt.Errorf("not in the bucket %v after %s: %w", time.Since(from).Round(time.Millisecond), w.event, ctx.Err())
		case <-tick.C:
		}
	}
	for i := range out {
		if out[i].after == 0 {
			out[i].err = err
		}
	}
	return out
}

// webhookTime waits for w's webhook and returns when it arrived.
func webhookTime(ctx context.Context, hooks *hookLog, w watch) (time.Time, error) {
	tick := time.NewTicker(headEvery / 4)
	defer tick.Stop()
	for {
		if got := hooks.matching(func(h webhook) bool { return h.Type == w.event && w.match(h) }); len(got) > 0 {
			return got[0].At, nil
		}
		select {
		case <-ctx.Done():
			return time.Time{}, fmt.Errorf("no %s webhook: %w", w.event, ctx.Err())
		case <-tick.C:
		}
	}
}

// checkLatencies logs every key's latency and fails any over uploadWithin.
func checkLatencies(t *testing.T, sightings []sighting) {
	t.Helper()
	for _, s := range sightings {
		switch {
		case s.err != nil:
			t.Errorf("%s: %v", s.key, s.err)
		case s.after > uploadWithin:
			t.Errorf("%s visible %v after %s, want within %v", s.key, s.after.Round(time.Millisecond), s.event, uploadWithin)
		default:
			t.Logf("%s visible %v after %s", s.key, s.after.Round(time.Millisecond), s.event)
		}
	}
}

// checkReportLast polls the bucket for the report (the first watch's
// key) every headEvery and, the moment it is there, asks for every other
// key: the report must be the last object of the recording to appear.
func checkReportLast(ctx context.Context, client *s3.Client, watches []watch, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	report := watches[0].keys[0]
	tick := time.NewTicker(headEvery)
	defer tick.Stop()
	for !hasObject(ctx, client, report) {
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not in the bucket: %w", report, ctx.Err())
		case <-tick.C:
		}
	}
	var early []string
	for _, w := range watches[1:] {
		for _, key := range w.keys {
			if !hasObject(ctx, client, key) {
				early = append(early, key)
			}
		}
	}
	if len(early) > 0 {
		return fmt.Errorf("%s was in the bucket before %v, want the report last", report, early)
	}
	return nil
}

func hasObject(ctx context.Context, client *s3.Client, key string) bool {
	_, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(uploadBucket), Key: aws.String(key)})
	return err == nil
}

// checkUploadWebhooks checks the uploader's webhooks for the recording:
// one archive.uploaded per connection and recording-report.uploaded last.
func checkUploadWebhooks(t *testing.T, uploads *hookLog, rid string, conns []string) {
	t.Helper()
	var types, uploaded []string
	for _, w := range uploads.matching(func(w webhook) bool { return w.Body["recording_id"] == rid }) {
		types = append(types, w.Type)
		if w.Type == "archive.uploaded" {
			uploaded = append(uploaded, fmt.Sprint(w.Body["connection_id"]))
		}
	}
	slices.Sort(uploaded)
	want := slices.Sorted(slices.Values(conns))
	if len(types) == 0 || types[len(types)-1] != "recording-report.uploaded" || !slices.Equal(uploaded, want) {
		t.Errorf("uploader webhooks %v for connections %v, want archive.uploaded for %v and recording-report.uploaded last", types, uploaded, want)
	}
}

// checkBucketBytes compares the recording's objects with the files the
// recorder wrote (kept on disk by after_upload_action = keep): the same
// names and the same SHA-256.
func checkBucketBytes(t *testing.T, client *s3.Client, dir, rid string) {
	t.Helper()
	ctx := t.Context()
	local, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range local {
		if !e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	list, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(uploadBucket), Prefix: aws.String(rid + "/")})
	if err != nil {
		t.Fatalf("list bucket: %v", err)
	}
	var keys []string
	for _, o := range list.Contents {
		keys = append(keys, strings.TrimPrefix(aws.ToString(o.Key), rid+"/"))
	}
	slices.Sort(keys)
	if !slices.Equal(keys, names) || len(names) != 5 {
		t.Errorf("bucket holds %v, archive_dir holds %v; want the same two archives with JSON and the report", keys, names)
	}
	for _, name := range names {
		want, err := hashFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := hashObject(ctx, client, rid+"/"+name)
		if err != nil || got != want {
			t.Errorf("%s: object sha256 %s (%v), file %s", name, got, err, want)
		}
	}
}

func hashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func hashObject(ctx context.Context, client *s3.Client, key string) (string, error) {
	obj, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(uploadBucket), Key: aws.String(key)})
	if err != nil {
		return "", fmt.Errorf("get %s: %w", key, err)
	}
	defer obj.Body.Close()
	h := sha256.New()
	if _, err := io.Copy(h, obj.Body); err != nil {
		return "", fmt.Errorf("read %s: %w", key, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// s3Client talks to the test MinIO with path-style addressing.
func s3Client(endpoint string) *s3.Client {
	return s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(minioUser, minioPassword, ""),
	})
}

// startMinIO runs a MinIO server on 127.0.0.1 with a temp data directory
// until the test ends and returns its endpoint. The binary comes from
// KIROKU_MINIO_BIN or ~/.cache/kiroku/bin/minio-*.
func startMinIO(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("KIROKU_MINIO_BIN")
	if bin == "" {
		home, _ := os.UserHomeDir()
		found, _ := filepath.Glob(filepath.Join(home, ".cache", "kiroku", "bin", "minio-*"))
		if len(found) == 0 {
			t.Fatal("no MinIO server binary: set KIROKU_MINIO_BIN or run `make deps-minio`")
		}
		bin = slices.Max(found)
	}
	dir := t.TempDir()
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cmd := exec.Command(bin, "server", filepath.Join(dir, "data"), "--quiet", "--address", addr,
		"--console-address", fmt.Sprintf("127.0.0.1:%d", freePort(t)))
	cmd.Env = append(os.Environ(), "MINIO_ROOT_USER="+minioUser, "MINIO_ROOT_PASSWORD="+minioPassword,
		"MINIO_BROWSER=off", "MINIO_UPDATE=off")
	logPath := filepath.Join(dir, "minio.log")
	startLogged(t, cmd, logPath)
	endpoint := "http://" + addr
	waitFor(t, "MinIO live", 30*time.Second, func() string {
		resp, err := http.Get(endpoint + "/minio/health/live")
		if err != nil {
			return err.Error()
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return resp.Status
		}
		return ""
	})
	return endpoint
}

// startUploader builds cmd/uploader and runs it on archiveDir, keeping
// the files after upload, until the test ends.
func startUploader(t *testing.T, archiveDir, endpoint, webhookURL string) {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "uploader")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/uploader").CombinedOutput(); err != nil {
		t.Fatalf("build cmd/uploader: %v\n%s", err, out)
	}
	if err := os.MkdirAll(archiveDir, 0o755); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "uploader.conf")
	body := fmt.Sprintf(`archive_dir_full_path = %s
after_upload_action = keep
object_storage_endpoint = %s
object_storage_region = us-east-1
object_storage_bucket_name = %s
object_storage_path_style = true
object_storage_access_key_id = %s
object_storage_secret_access_key = %s
webhook_endpoint_url = %s
metrics_listen_address =
`, archiveDir, endpoint, uploadBucket, minioUser, minioPassword, webhookURL)
	if err := os.WriteFile(conf, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "uploader.log")
	cmd := exec.Command(bin, "-config", conf)
	startLogged(t, cmd, logPath)
	waitFor(t, "uploader started", 10*time.Second, func() string {
		if raw, _ := os.ReadFile(logPath); !strings.Contains(string(raw), "uploader started") {
			return string(raw)
		}
		return ""
	})
	t.Cleanup(func() {
		if t.Failed() {
			raw, _ := os.ReadFile(logPath)
			t.Logf("uploader log:\n%s", raw)
		}
	})
}

// startLogged starts cmd with its output in logPath and stops it with
// SIGTERM (SIGKILL after 15 s) when the test ends.
func startLogged(t *testing.T, cmd *exec.Cmd, logPath string) {
	t.Helper()
	log, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		log.Close()
		t.Fatalf("start %s: %v", filepath.Base(cmd.Path), err)
	}
	t.Cleanup(func() {
		defer log.Close()
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
			t.Errorf("%s did not stop on SIGTERM", filepath.Base(cmd.Path))
		}
	})
}
