package uploader

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/kiroku-sfu/kiroku/uploader/scan"
)

// stateDirName is the uploader's own directory inside archive_dir. The
// recorder never writes there and scans skip it (a hidden name).
const stateDirName = ".uploader"

// Stages a job's record passes through. A job without a record starts from
// the upload: objects are put under fixed keys, so redoing one is harmless.
const (
	stageUploaded = "uploaded" // every object verified; webhook not yet sent
	stageNotified = "notified" // webhook sent; local files may be acted on
)

// record is one job's progress, saved as
// <archive_dir>/.uploader/<recording_id>/<json name>.state.
type record struct {
	Stage string   `json:"stage"`
	Files []string `json:"files"` // the job's file names, media first
}

// journal keeps records so that a restart neither re-uploads verified
// objects nor sends a webhook twice, and so that "keep" mode knows which
// files are done.
type journal struct {
	dir string
}

func (j journal) path(job scan.Job) string {
	return filepath.Join(j.dir, job.RecordingID, job.JSONName+".state")
}

// load returns the job's record; a missing record is the zero record.
func (j journal) load(job scan.Job) (record, error) {
	f, err := os.Open(j.path(job))
	if errors.Is(err, fs.ErrNotExist) {
		return record{}, nil
	}
	if err != nil {
		return record{}, fmt.Errorf("journal: %w", err)
	}
	defer f.Close()
	var r record
	if err := json.NewDecoder(io.LimitReader(f, 64<<10)).Decode(&r); err != nil {
		// A torn record is as good as none: the job is redone.
		return record{}, nil
	}
	return r, nil
}

// save writes the record durably: temp file, fsync, rename.
func (j journal) save(job scan.Job, r record) error {
	path := j.path(job)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	tmp := path + ".tmp"
	if err := writeSync(tmp, b); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	return nil
}

func writeSync(path string, b []byte) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}

// remove forgets the job, and its recording's directory once empty.
func (j journal) remove(job scan.Job) error {
	if err := os.Remove(j.path(job)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("journal: %w", err)
	}
	_ = os.Remove(filepath.Join(j.dir, job.RecordingID)) // fails while not empty
	return nil
}

// notified returns the records of recording rid that reached stageNotified,
// by JSON name.
func (j journal) notified(rid string) map[string]record {
	entries, err := os.ReadDir(filepath.Join(j.dir, rid))
	if err != nil {
		return nil
	}
	out := make(map[string]record)
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".state")
		if !ok {
			continue
		}
		if r, _ := j.load(scan.Job{RecordingID: rid, JSONName: name}); r.Stage == stageNotified {
			out[name] = r
		}
	}
	return out
}
