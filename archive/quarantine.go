package archive

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
)

// quarantine moves a tmp file (and its sidecar, if any) into dir and
// writes <name>.reason.txt beside it. Nothing is deleted.
func quarantine(dir, path, reason string, logger *slog.Logger) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("archive: quarantine %s: %w", path, err)
	}
	dst := filepath.Join(dir, filepath.Base(path))
	var errs []error
	if _, err := os.Stat(path); err == nil {
		errs = append(errs, moveFile(path, dst))
	}
	if _, err := os.Stat(path + pendingSuffix); err == nil {
		errs = append(errs, moveFile(path+pendingSuffix, dst+pendingSuffix))
	}
	errs = append(errs, writeFileAtomic(dst+".reason.txt", []byte(reason+"\n")))
	err := errors.Join(errs...)
	logger.Warn("file quarantined", "file", filepath.Base(path), "dir", dir, "reason", reason, "err", err)
	return err
}
