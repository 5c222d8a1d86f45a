package uploader

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/kiroku-sfu/kiroku/uploader/internal/miniotest"
	"github.com/kiroku-sfu/kiroku/uploader/s3store"
)

// env is one test's world: a MinIO server, an archive_dir and a webhook
// receiver.
type env struct {
	t       testing.TB
	minio   *miniotest.Server
	archive string
	bucket  string
	store   *s3store.Store // for reading objects back
	hooks   *hookLog
	hookSrv *httptest.Server
}

func newEnv(t testing.TB) *env {
	t.Helper()
	e := &env{t: t, minio: miniotest.Start(t), archive: t.TempDir(), bucket: "rec", hooks: &hookLog{}}
	e.hooks.archive = e.archive
	e.hookSrv = httptest.NewServer(e.hooks)
	t.Cleanup(e.hookSrv.Close)
	e.store = e.newStore(e.config().Store)
	if _, err := e.store.Client().CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(e.bucket)}); err != nil {
		t.Fatal(err)
	}
	return e
}

// config is a fast-retrying configuration for this env.
func (e *env) config() Config {
	cfg := DefaultConfig()
	cfg.ArchiveDir = e.archive
	cfg.RescanInterval = 200 * time.Millisecond
	cfg.RetryMinInterval, cfg.RetryMaxInterval = 100*time.Millisecond, 2*time.Second
	cfg.QuarantineRetryInterval = time.Hour
	cfg.ProgressInterval = 500 * time.Millisecond
	cfg.MetricsListenAddress = ""
	cfg.Store.Endpoint, cfg.Store.Bucket, cfg.Store.PathStyle = e.minio.Endpoint, e.bucket, true
	cfg.Store.AccessKeyID, cfg.Store.SecretAccessKey = miniotest.User, miniotest.Password
	cfg.Store.KeyPrefix = "kiroku/"
	cfg.Store.PartSizeMB = 5
	cfg.Hook.URL = e.hookSrv.URL
	cfg.Hook.RetryInterval = 10 * time.Millisecond
	return cfg
}

func (e *env) newStore(cfg s3store.Config) *s3store.Store {
	s, err := s3store.New(context.Background(), cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// start runs an Uploader until the test ends or the returned stop is called.
func (e *env) start(cfg Config) (*Uploader, func() error) {
	e.t.Helper()
	u, err := New(context.Background(), cfg, testLogger(e.t))
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- u.Run(ctx) }()
	var once sync.Once
	var runErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			runErr = <-done
			u.Close()
		})
		return runErr
	}
	e.t.Cleanup(func() { stop() })
	return u, stop
}

// testLogger logs to the test's log; benchmarks log warnings only.
func testLogger(t testing.TB) *slog.Logger {
	level := slog.LevelDebug
	if _, bench := t.(*testing.B); bench {
		level = slog.LevelWarn
	}
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: level}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}

// recording writes files the way the recorder does: media first, JSON last
// by rename. It returns every file's bytes by name.
type recording struct {
	dir, rid string
	files    map[string][]byte
}

func newRecording(t testing.TB, archive, rid string) *recording {
	dir := filepath.Join(archive, rid)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return &recording{dir: dir, rid: rid, files: map[string][]byte{}}
}

func (r *recording) write(t testing.TB, name string, b []byte) {
	t.Helper()
	tmp := filepath.Join(r.dir, "."+name+".tmp")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(r.dir, name)); err != nil {
		t.Fatal(err)
	}
	r.files[name] = b
}

func (r *recording) meta(fields map[string]any) []byte {
	m := map[string]any{"recording_id": r.rid, "channel_id": "ch", "session_id": "S", "client_id": "cl"}
	for k, v := range fields {
		m[k] = v
	}
	b, _ := json.Marshal(m)
	return b
}

// archive writes a single archive of cid with n media bytes.
func (r *recording) archive(t testing.TB, cid string, n int) {
	media := "archive-" + cid + ".mp4"
	r.write(t, media, randomBytes(n, uint64(len(r.files))+1))
	r.write(t, "archive-"+cid+".json", r.meta(map[string]any{"connection_id": cid, "filename": r.rid + "/" + media}))
}

// split writes split index i of cid with n media bytes.
func (r *recording) split(t testing.TB, cid string, i, n int) {
	stem := fmt.Sprintf("split-archive-%s_%04d", cid, i)
	r.write(t, stem+".webm", randomBytes(n, uint64(len(r.files))+1))
	r.write(t, stem+".json", r.meta(map[string]any{"connection_id": cid, "filename": r.rid + "/" + stem + ".webm",
		"split_index": fmt.Sprintf("%04d", i)}))
}

func (r *recording) splitEnd(t testing.TB, cid string, last int) {
	r.write(t, "split-archive-end-"+cid+".json", r.meta(map[string]any{"connection_id": cid,
		"split_last_index": fmt.Sprintf("%04d", last)}))
}

func (r *recording) report(t testing.TB) {
	r.write(t, "report-"+r.rid+".json", r.meta(map[string]any{"recording_metadata": map[string]any{"k": "v"}}))
}

func randomBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	rng := rand.New(rand.NewPCG(seed, 42))
	for i := 0; i+8 <= n; i += 8 {
		v := rng.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

// hookCall is one webhook received.
type hookCall struct {
	typ, filename string
	localExisted  bool // the announced file was still on disk when announced
	at            time.Time
	strays        []string // a report's stray_files
}

// hookLog records webhook calls in arrival order.
type hookLog struct {
	archive string
	mu      sync.Mutex
	calls   []hookCall
	fail    bool // answer 500
}

func (h *hookLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Filename   string   `json:"filename"`
		StrayFiles []string `json:"stray_files"`
	}
	_ = json.NewDecoder(r.Body).Decode(&body)
	_, err := os.Stat(filepath.Join(h.archive, body.Filename))
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.fail {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	h.calls = append(h.calls, hookCall{typ: r.Header.Get("sora-archive-uploader-webhook-type"),
		filename: body.Filename, localExisted: err == nil, at: time.Now(), strays: body.StrayFiles})
}

func (h *hookLog) snapshot() []hookCall {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookCall(nil), h.calls...)
}

func (h *hookLog) setFail(v bool) {
	h.mu.Lock()
	h.fail = v
	h.mu.Unlock()
}

// waitFor polls cond until it holds or the limit passes.
func waitFor(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// objects lists the bucket: key → SHA-256 of a GET.
func (e *env) objects() map[string][32]byte {
	e.t.Helper()
	ctx := context.Background()
	out := map[string][32]byte{}
	list, err := e.store.Client().ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(e.bucket)})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, o := range list.Contents {
		obj, err := e.store.Client().GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(e.bucket), Key: o.Key}, noChecksumLog)
		if err != nil {
			e.t.Fatal(err)
		}
		h := sha256.New()
		_, err = io.Copy(h, obj.Body)
		obj.Body.Close()
		if err != nil {
			e.t.Fatal(err)
		}
		out[aws.ToString(o.Key)] = [32]byte(h.Sum(nil))
	}
	return out
}

// checkObjects wants exactly the recordings' files in the bucket, byte for byte.
func (e *env) checkObjects(recs ...*recording) {
	e.t.Helper()
	got := e.objects()
	want := map[string][32]byte{}
	for _, r := range recs {
		for name, b := range r.files {
			want["kiroku/"+r.rid+"/"+name] = sha256.Sum256(b)
		}
	}
	var problems []string
	for k, sum := range want {
		if g, ok := got[k]; !ok {
			problems = append(problems, "missing "+k)
		} else if g != sum {
			problems = append(problems, "differs "+k)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			problems = append(problems, "unexpected "+k)
		}
	}
	sort.Strings(problems)
	for _, p := range problems {
		e.t.Error(p)
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// noChecksumLog reads objects without the client's own response checksum
// check, which only logs for multipart objects; tests compare bytes instead.
func noChecksumLog(o *s3.Options) {
	o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
}

// value reads a counter.
func value(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		return -1
	}
	return m.GetCounter().GetValue()
}
