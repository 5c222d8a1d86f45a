package uploader

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/kiroku-sfu/kiroku/uploader/scan"
)

// finish applies the after-upload action to a job whose objects are
// verified and announced, then forgets the job (except in keep mode, where
// the journal is what marks the files done). Media goes before its JSON, so
// a crash in between leaves a JSON whose record finishes it on the next scan.
// After the report, an emptied recording directory is removed.
func (u *Uploader) finish(job scan.Job, rec record) error {
	if u.cfg.AfterUpload == ActionKeep {
		return nil
	}
	dir := filepath.Join(u.cfg.ArchiveDir, job.RecordingID)
	for _, name := range rec.Files {
		var err error
		if u.cfg.AfterUpload == ActionEvacuate {
			err = evacuate(filepath.Join(dir, name), filepath.Join(u.cfg.EvacuateDir, job.RecordingID, name))
		} else {
			err = os.Remove(filepath.Join(dir, name))
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s %s: %w", u.cfg.AfterUpload, name, err)
		}
	}
	if err := u.journal.remove(job); err != nil {
		return err
	}
	if job.Kind == scan.Report {
		_ = os.Remove(dir) // only when empty; anything left stays visible
	}
	return nil
}

// evacuate moves src to dst, copying across file systems.
func evacuate(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	err := os.Rename(src, dst)
	if !errors.Is(err, syscall.EXDEV) {
		return err
	}
	if err := copyFile(src, dst); err != nil {
		return err
	}
	return os.Remove(src)
}

// copyFile copies src to dst durably (temp name, fsync, rename).
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp := dst + ".tmp"
	out, err := os.Create(tmp)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if err == nil {
		err = out.Sync()
	}
	if err = errors.Join(err, out.Close()); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, dst)
}
