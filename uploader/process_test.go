package uploader

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/kiroku-sfu/kiroku/uploader/internal/miniotest"
)

// buildCommand builds cmd/uploader into a temp dir.
func buildCommand(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "uploader")
	out, err := exec.Command("go", "build", "-o", bin, "../cmd/uploader").CombinedOutput()
	if err != nil {
		t.Fatalf("go build cmd/uploader: %v\n%s", err, out)
	}
	return bin
}

// writeConfig writes an uploader config file for the child process.
func (e *env) writeConfig(t testing.TB, path string, extra map[string]string) {
	t.Helper()
	kv := map[string]string{
		"archive_dir_full_path":            e.archive,
		"object_storage_endpoint":          e.minio.Endpoint,
		"object_storage_bucket_name":       e.bucket,
		"object_storage_key_prefix":        "kiroku/",
		"object_storage_path_style":        "true",
		"object_storage_access_key_id":     miniotest.User,
		"object_storage_secret_access_key": miniotest.Password,
		"webhook_endpoint_url":             e.hookSrv.URL,
		"upload_part_size_mb":              "8",
		"rescan_interval":                  "500 ms",
		"retry_min_interval":               "100 ms",
		"retry_max_interval":               "1 s",
		"progress_interval":                "500 ms",
		"metrics_listen_address":           "",
	}
	for k, v := range extra {
		kv[k] = v
	}
	keys := make([]string, 0, len(kv))
	for k := range kv {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s = %q\n", k, kv[k])
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

// child starts the uploader binary; its output goes to the test log.
func child(t testing.TB, bin string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if !strings.Contains(sc.Text(), `"level":"DEBUG"`) {
				t.Log("child:", sc.Text())
			}
		}
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	return cmd
}

// writeLarge writes size pseudo-random bytes to path and returns their SHA-256.
func writeLarge(t testing.TB, path string, size int64) [32]byte {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	rng := rand.NewChaCha8([32]byte{7})
	if _, err := io.CopyN(io.MultiWriter(f, h), rng, size); err != nil {
		t.Fatal(err)
	}
	return [32]byte(h.Sum(nil))
}

// TestCrashDuringMultipartUpload: the uploader is SIGKILLed in the middle of
// a 200 MiB multipart upload; the next run aborts the stale upload, puts
// the file again and the object is complete and correct.
func TestCrashDuringMultipartUpload(t *testing.T) {
	e := newEnv(t)
	bin := buildCommand(t)
	rec := newRecording(t, e.archive, "R")
	sum := writeLarge(t, filepath.Join(rec.dir, "archive-A.mp4"), 200<<20)
	rec.write(t, "archive-A.json", rec.meta(map[string]any{"connection_id": "A", "filename": "R/archive-A.mp4"}))

	conf := filepath.Join(t.TempDir(), "uploader.conf")
	e.writeConfig(t, conf, map[string]string{"upload_file_rate_limit_mbps": "400"}) // about 4 s
	first := child(t, bin, "-config", conf)
	waitFor(t, 30*time.Second, "some parts uploaded", func() bool { return e.uploadedParts() >= 2 })
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()
	if _, err := e.head("kiroku/R/archive-A.mp4"); err == nil {
		t.Fatal("the object exists although the upload was killed")
	}

	e.writeConfig(t, conf, nil)
	second := child(t, bin, "-config", conf, "-once")
	if err := second.Wait(); err != nil {
		t.Fatalf("second run: %v", err)
	}
	got := e.objects()
	if got["kiroku/R/archive-A.mp4"] != sum {
		t.Error("the object differs from the local file")
	}
	if len(got) != 2 {
		t.Errorf("objects %d, want 2", len(got))
	}
	if n := len(e.multipartUploads()); n != 0 {
		t.Errorf("%d stale multipart uploads left", n)
	}
	if exists(rec.dir + "/archive-A.mp4") {
		t.Error("local file kept after a verified upload")
	}
	if n := len(e.hooks.snapshot()); n != 1 {
		t.Errorf("%d webhooks, want 1", n)
	}
}

// uploadedParts counts the parts of the bucket's unfinished uploads.
func (e *env) uploadedParts() int {
	ctx := context.Background()
	list, err := e.store.Client().ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(e.bucket)})
	if err != nil {
		return 0
	}
	n := 0
	for _, u := range list.Uploads {
		parts, err := e.store.Client().ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String(e.bucket), Key: u.Key, UploadId: u.UploadId})
		if err == nil {
			n += len(parts.Parts)
		}
	}
	return n
}

func (e *env) head(key string) (*s3.HeadObjectOutput, error) {
	return e.store.Client().HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(e.bucket), Key: aws.String(key)})
}

// TestSIGHUPReloadsConfig: with wrong credentials the files are quarantined
// (visible on /quarantine and /metrics); fixing the file and sending SIGHUP
// uploads them; SIGTERM stops the process cleanly.
func TestSIGHUPReloadsConfig(t *testing.T) {
	e := newEnv(t)
	bin := buildCommand(t)
	rec := newRecording(t, e.archive, "R")
	rec.archive(t, "A", 5000)
	addr := freePort(t)
	conf := filepath.Join(t.TempDir(), "uploader.conf")
	e.writeConfig(t, conf, map[string]string{"object_storage_secret_access_key": "wrong", "metrics_listen_address": addr})
	proc := child(t, bin, "-config", conf)

	waitFor(t, 30*time.Second, "the quarantine list", func() bool {
		var q []Quarantined
		return getJSON("http://"+addr+"/quarantine", &q) == nil && len(q) == 1 &&
			strings.Contains(q[0].Reason, "SignatureDoesNotMatch")
	})
	if body := get(t, "http://"+addr+"/metrics"); !strings.Contains(body, "kiroku_uploader_quarantined_jobs 1\n") {
		t.Errorf("metrics do not show the quarantined job:\n%s", body)
	}
	if !exists(filepath.Join(rec.dir, "archive-A.mp4")) {
		t.Fatal("files removed while quarantined")
	}
	e.writeConfig(t, conf, map[string]string{"metrics_listen_address": addr})
	if err := proc.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "the upload after SIGHUP", func() bool { return len(e.hooks.snapshot()) == 1 })
	e.checkObjects(rec)
	if err := proc.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := proc.Wait(); err != nil {
		t.Errorf("exit after SIGTERM: %v", err)
	}
}

func freePort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func getJSON(url string, v any) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(v)
}

func get(t testing.TB, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
