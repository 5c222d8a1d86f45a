package uploader

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/kiroku-sfu/kiroku/uploader/scan"
)

// reportRefs reads what a report references, for planning. A report that
// cannot be read yet references nothing here: its job then meets the same
// read error and is retried or quarantined as any unreadable JSON.
func (u *Uploader) reportRefs(rid, report string) scan.Refs {
	f, err := os.Open(filepath.Join(u.cfg.ArchiveDir, rid, report))
	if err != nil {
		return scan.Refs{}
	}
	defer f.Close()
	meta, err := scan.ReadMeta(f)
	if err != nil {
		return scan.Refs{}
	}
	return meta.Refs()
}

// strays lists the stray media files a report job leaves behind, as
// "<recording_id>/<name>": media files of its directory with no JSON beside
// them that the report does not reference.
func (u *Uploader) strays(job scan.Job, meta scan.Meta) ([]string, error) {
	dir := filepath.Join(u.cfg.ArchiveDir, job.RecordingID)
	f, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	names, err := f.Readdirnames(-1)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	out := scan.Strays(names, meta.Refs())
	for i, n := range out {
		out[i] = job.RecordingID + "/" + n
	}
	return out, nil
}
