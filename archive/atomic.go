package archive

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// writeFileAtomic writes data to path so that a reader sees either no file
// or the complete file: it writes a temporary file in the same directory,
// fsyncs it, renames it into place and fsyncs the directory.
func writeFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("archive: write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, os.Remove(tmp.Name()))
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return errors.Join(fmt.Errorf("archive: write %s: %w", path, err), tmp.Close())
	}
	if err := tmp.Sync(); err != nil {
		return errors.Join(fmt.Errorf("archive: fsync %s: %w", path, err), tmp.Close())
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("archive: close %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("archive: chmod %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("archive: rename into %s: %w", path, err)
	}
	return syncDir(dir)
}

// moveFile renames a finished media file from archive_tmp_dir into place
// (fsyncing it first) and falls back to copy + fsync + remove when the two
// directories are on different file systems.
func moveFile(src, dst string) error {
	if f, err := os.Open(src); err == nil {
		syncErr := f.Sync()
		if cerr := f.Close(); syncErr == nil {
			syncErr = cerr
		}
		if syncErr != nil {
			return fmt.Errorf("archive: fsync %s: %w", src, syncErr)
		}
	}
	if err := os.Rename(src, dst); err == nil {
		return syncDir(filepath.Dir(dst))
	} else if !isCrossDevice(err) {
		return fmt.Errorf("archive: move %s: %w", src, err)
	}
	if err := copyFile(src, dst); err != nil {
		return err
	}
	if err := os.Remove(src); err != nil {
		return fmt.Errorf("archive: remove %s after copy: %w", src, err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("archive: open dir %s: %w", dir, err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("archive: fsync dir %s: %w", dir, err)
	}
	return nil
}
