package uploader

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestStrayMediaDoesNotHoldTheReport: media files whose JSON never comes
// (one of no connection, one of a connection the report lists as failed)
// neither delay the report nor get uploaded, moved or deleted; the report
// webhook names them and the metric counts them.
func TestStrayMediaDoesNotHoldTheReport(t *testing.T) {
	e := newEnv(t)
	rec := newRecording(t, e.archive, "R1")
	strays := map[string][]byte{"archive-X.webm": randomBytes(5000, 7), "archive-C.mp4": randomBytes(3000, 8)}
	for name, b := range strays {
		if err := os.WriteFile(filepath.Join(rec.dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rec.archive(t, "A", 100_000)
	u, stop := e.start(e.config())
	waitFor(t, 10*time.Second, "archive A announced", func() bool { return len(e.hooks.snapshot()) == 1 })

	written := time.Now()
	rec.write(t, "report-R1.json", rec.meta(map[string]any{
		"archives": []map[string]any{{"connection_id": "A", "filename": "R1/archive-A.mp4",
			"metadata_filename": "R1/archive-A.json"}},
		"failed_archives": []map[string]any{{"connection_id": "C", "reason": "no keyframe"}},
	}))
	// The usual latency: every object within 2 s of its JSON (uploader/README.md).
	waitFor(t, 2*time.Second, "the report announced", func() bool { return len(e.hooks.snapshot()) == 2 })
	t.Logf("report announced %v after it was written", time.Since(written).Round(time.Millisecond))
	time.Sleep(3 * e.config().RescanInterval) // rescans see the strays again
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	e.checkObjects(rec) // the archive and the report, no stray
	calls := e.hooks.snapshot()
	if len(calls) != 2 || calls[1].typ != "recording-report.uploaded" {
		t.Fatalf("webhooks %+v", calls)
	}
	if want := []string{"R1/archive-C.mp4", "R1/archive-X.webm"}; !slices.Equal(calls[1].strays, want) {
		t.Errorf("report webhook stray_files = %v, want %v", calls[1].strays, want)
	}
	for name, b := range strays {
		got, err := os.ReadFile(filepath.Join(rec.dir, name))
		if err != nil || !bytes.Equal(got, b) {
			t.Errorf("stray %s touched: %v", name, err)
		}
	}
	if exists(filepath.Join(rec.dir, "report-R1.json")) || exists(filepath.Join(rec.dir, "archive-A.mp4")) {
		t.Error("uploaded files not deleted")
	}
	if n := value(u.metrics.strays); n != 2 {
		t.Errorf("kiroku_uploader_stray_files_total = %v, want 2", n)
	}
}
