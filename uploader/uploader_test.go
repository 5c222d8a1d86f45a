package uploader

import (
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestUploadsRecordingCompletely: single, split, split-end and report files
// all reach the bucket byte for byte, webhooks come one per job in a valid
// order while the local files still exist, the report comes last, the
// directory is removed after it, and a media file without its JSON is never
// uploaded, even across rescans.
func TestUploadsRecordingCompletely(t *testing.T) {
	e := newEnv(t)
	rec := newRecording(t, e.archive, "R1")
	rec.archive(t, "A", 300_000)
	rec.split(t, "B", 1, 200_000)
	rec.split(t, "B", 2, 7<<20) // multipart with 5 MiB parts
	rec.splitEnd(t, "B", 2)
	rec.report(t)
	orphan := newRecording(t, e.archive, "R2")
	orphan.write(t, "archive-X.mp4", randomBytes(1000, 9))

	u, stop := e.start(e.config())
	waitFor(t, 30*time.Second, "R1 to be uploaded and removed", func() bool {
		return !exists(filepath.Join(e.archive, "R1"))
	})
	time.Sleep(3 * e.config().RescanInterval) // let rescans see the orphan again
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	e.checkObjects(rec)
	if !exists(filepath.Join(e.archive, "R2", "archive-X.mp4")) {
		t.Error("the orphan media file was touched")
	}

	calls := e.hooks.snapshot()
	var names []string
	for _, c := range calls {
		names = append(names, c.typ+" "+c.filename)
		if !c.localExisted {
			t.Errorf("%s announced after its local file was gone", c.filename)
		}
	}
	want := []string{
		"archive.uploaded R1/archive-A.mp4",
		"split-archive.uploaded R1/split-archive-B_0001.webm",
		"split-archive.uploaded R1/split-archive-B_0002.webm",
		"split-archive-end.uploaded R1/split-archive-end-B.json",
		"recording-report.uploaded R1/report-R1.json",
	}
	got := slices.Clone(names)
	slices.Sort(got)
	sorted := slices.Clone(want)
	slices.Sort(sorted)
	if !slices.Equal(got, sorted) {
		t.Fatalf("webhooks %v, want one each of %v", names, want)
	}
	if names[len(names)-1] != want[4] {
		t.Errorf("report not last: %v", names)
	}
	if slices.Index(names, want[3]) < slices.Index(names, want[2]) {
		t.Errorf("split end before its last split: %v", names)
	}
	if n := value(u.metrics.uploaded.WithLabelValues("split-archive")); n != 2 {
		t.Errorf("uploaded split-archive jobs = %v, want 2", n)
	}
	if q := u.Quarantined(); len(q) != 0 {
		t.Errorf("quarantined: %v", q)
	}
	resp := httptest.NewRecorder()
	u.Handler().ServeHTTP(resp, httptest.NewRequest("GET", "/metrics", nil))
	for _, want := range []string{
		`kiroku_uploader_uploaded_jobs_total{kind="report"} 1`,
		"kiroku_uploader_pending_jobs 0",
		"kiroku_uploader_upload_latency_seconds_count 5",
	} {
		if !strings.Contains(resp.Body.String(), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// TestAfterUploadActions: evacuate moves the files, keep leaves them and
// never uploads or announces them twice.
func TestAfterUploadActions(t *testing.T) {
	tests := []struct {
		action string
	}{{ActionEvacuate}, {ActionKeep}}
	for _, tt := range tests {
		t.Run(tt.action, func(t *testing.T) {
			e := newEnv(t)
			rec := newRecording(t, e.archive, "R")
			rec.archive(t, "A", 1000)
			rec.report(t)
			cfg := e.config()
			cfg.AfterUpload = tt.action
			cfg.EvacuateDir = t.TempDir()
			_, stop := e.start(cfg)
			waitFor(t, 20*time.Second, "two webhooks", func() bool { return len(e.hooks.snapshot()) == 2 })
			time.Sleep(3 * cfg.RescanInterval)
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			e.checkObjects(rec)
			if n := len(e.hooks.snapshot()); n != 2 {
				t.Errorf("%d webhooks, want 2", n)
			}
			for name := range rec.files {
				local := exists(filepath.Join(e.archive, "R", name))
				moved := exists(filepath.Join(cfg.EvacuateDir, "R", name))
				if tt.action == ActionKeep && (!local || moved) || tt.action == ActionEvacuate && (local || !moved) {
					t.Errorf("%s: local %v, evacuated %v", name, local, moved)
				}
			}
			// A restart in keep mode finds the journal and does nothing again.
			if tt.action == ActionKeep {
				_, stop := e.start(cfg)
				time.Sleep(3 * cfg.RescanInterval)
				stop()
				if n := len(e.hooks.snapshot()); n != 2 {
					t.Errorf("after restart: %d webhooks, want 2", n)
				}
			}
		})
	}
}

// TestQuarantineThenReload: wrong credentials and then a missing bucket
// quarantine the files with the reason and delete nothing; a fixed config
// uploads them.
func TestQuarantineThenReload(t *testing.T) {
	e := newEnv(t)
	rec := newRecording(t, e.archive, "R")
	rec.archive(t, "A", 1000)
	good := e.config()
	bad := good
	bad.Store.SecretAccessKey = "wrong"
	u, stop := e.start(bad)
	defer stop()
	waitQuarantined(t, u, "SignatureDoesNotMatch")

	noBucket := good
	noBucket.Store.Bucket = "missing"
	if err := u.Reload(t.Context(), noBucket); err != nil {
		t.Fatal(err)
	}
	waitQuarantined(t, u, "NoSuchBucket")
	for name := range rec.files {
		if !exists(filepath.Join(e.archive, "R", name)) {
			t.Fatalf("%s deleted while quarantined", name)
		}
	}
	if n := len(e.objects()); n != 0 {
		t.Fatalf("%d objects stored with a bad config", n)
	}
	if err := u.Reload(t.Context(), good); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "the upload after the fix", func() bool { return len(e.hooks.snapshot()) == 1 })
	waitFor(t, 5*time.Second, "the quarantine list to clear", func() bool { return len(u.Quarantined()) == 0 })
	e.checkObjects(rec)
	if value(u.metrics.failures.WithLabelValues(classPermanent)) < 2 {
		t.Errorf("permanent failures counted: %v", value(u.metrics.failures.WithLabelValues(classPermanent)))
	}
}

func waitQuarantined(t *testing.T, u *Uploader, reason string) {
	t.Helper()
	waitFor(t, 20*time.Second, "quarantine with "+reason, func() bool {
		q := u.Quarantined()
		return len(q) == 1 && q[0].Key == "R/archive-A.json" && strings.Contains(q[0].Reason, reason)
	})
}
