package archive

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
)

func isCrossDevice(err error) bool {
	var le *os.LinkError
	return errors.As(err, &le) && errors.Is(le.Err, syscall.EXDEV)
}

// copyFile copies src to dst (through a temporary name) and fsyncs it.
func copyFile(src, dst string) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("archive: copy %s: %w", src, err)
	}
	defer in.Close()
	tmp := dst + ".partial"
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("archive: copy to %s: %w", dst, err)
	}
	if _, err := io.Copy(out, in); err != nil {
		return errors.Join(fmt.Errorf("archive: copy to %s: %w", dst, err), out.Close(), os.Remove(tmp))
	}
	if err := out.Sync(); err != nil {
		return errors.Join(fmt.Errorf("archive: fsync %s: %w", dst, err), out.Close(), os.Remove(tmp))
	}
	if err := out.Close(); err != nil {
		return errors.Join(fmt.Errorf("archive: close %s: %w", dst, err), os.Remove(tmp))
	}
	if err := os.Rename(tmp, dst); err != nil {
		return fmt.Errorf("archive: rename %s: %w", dst, err)
	}
	return syncDir(filepath.Dir(dst))
}
