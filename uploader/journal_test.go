package uploader

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/kiroku-sfu/kiroku/uploader/scan"
)

func TestJournalRoundTrip(t *testing.T) {
	j := journal{dir: filepath.Join(t.TempDir(), stateDirName)}
	job := scan.Job{Kind: scan.Archive, RecordingID: "R", JSONName: "archive-A.json"}
	if r, err := j.load(job); err != nil || r.Stage != "" {
		t.Fatalf("load of a missing record = %+v, %v", r, err)
	}
	want := record{Stage: stageNotified, Files: []string{"archive-A.mp4", "archive-A.json"}}
	if err := j.save(job, want); err != nil {
		t.Fatal(err)
	}
	if got, err := j.load(job); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("load = %+v, %v; want %+v", got, err, want)
	}
	if got := j.notified("R"); !reflect.DeepEqual(got, map[string]record{"archive-A.json": want}) {
		t.Errorf("notified = %v", got)
	}
	if err := j.remove(job); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(j.dir, "R")); !os.IsNotExist(err) {
		t.Errorf("empty recording state directory left: %v", err)
	}
}

// FuzzJournalLoad: whatever bytes a record file holds, load returns a
// record (a torn one reads as none) and never panics.
func FuzzJournalLoad(f *testing.F) {
	f.Add([]byte(`{"stage":"notified","files":["a.mp4","a.json"]}`))
	f.Add([]byte(`{"stage":"uploaded"`))
	f.Add([]byte{0xff, 0x00})
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		j := journal{dir: dir}
		job := scan.Job{RecordingID: "R", JSONName: "x.json"}
		if err := os.MkdirAll(filepath.Join(dir, "R"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(j.path(job), b, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := j.load(job); err != nil {
			t.Fatalf("load: %v", err)
		}
	})
}

// TestFinishesAnnouncedLeftovers: a crash between deleting a media file and
// its JSON leaves a JSON whose record says "notified"; the next run removes
// it without uploading or announcing anything again.
func TestFinishesAnnouncedLeftovers(t *testing.T) {
	e := newEnv(t)
	rec := newRecording(t, e.archive, "R")
	rec.write(t, "archive-A.json", rec.meta(map[string]any{"connection_id": "A", "filename": "R/archive-A.mp4"}))
	j := journal{dir: filepath.Join(e.archive, stateDirName)}
	job := scan.Job{Kind: scan.Archive, RecordingID: "R", JSONName: "archive-A.json"}
	if err := j.save(job, record{Stage: stageNotified, Files: []string{"archive-A.mp4", "archive-A.json"}}); err != nil {
		t.Fatal(err)
	}
	u, err := New(t.Context(), e.config(), testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	if err := u.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
	if exists(filepath.Join(rec.dir, "archive-A.json")) {
		t.Error("the announced JSON was left")
	}
	if n := len(e.objects()) + len(e.hooks.snapshot()); n != 0 {
		t.Errorf("%d objects and webhooks for an announced job", n)
	}
	if exists(filepath.Join(j.dir, "R")) {
		t.Error("journal entry left")
	}
}
