package archive

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

// Config configures session recording. The conf tags are sora.conf keys.
type Config struct {
	// ArchiveDir receives finished recordings, one directory per recording_id.
	ArchiveDir string `conf:"archive_dir"`
	// TmpDir holds files being written; it must differ from ArchiveDir.
	TmpDir string `conf:"archive_tmp_dir"`
	// QuarantineDir receives files that could not be recovered after a
	// crash, with a .reason.txt beside each; default TmpDir/quarantine.
	QuarantineDir string `conf:"archive_quarantine_dir"`
	// DefaultFormat is used when StartRecording names no format.
	DefaultFormat Format `conf:"default_recording_format"`
	// DualOutput writes single and split files when split_duration is set
	// and split_only is false.
	DualOutput bool `conf:"recording_dual_output"`
	// MP4PLIInterval is how often an MP4 recording asks for a keyframe when
	// the sender has not sent one (1 s to 240 s).
	MP4PLIInterval time.Duration `conf:"default_recording_mp4_pli_interval"`
	// MaxExpireTime and MaxSplitDuration cap the request's expire_time and
	// split_duration (seconds).
	MaxExpireTime    int64 `conf:"recording_max_expire_time"`
	MaxSplitDuration int64 `conf:"recording_max_split_duration"`

	// Label and NodeName fill the JSON files; set by the caller.
	Label    string `conf:"-"`
	NodeName string `conf:"-"`
}

// DefaultConfig returns Sora's defaults: WebM unless configured, 20 s MP4
// keyframe interval, 24 h limits, ./archive and ./archive_tmp.
func DefaultConfig() Config {
	return Config{
		ArchiveDir:       "archive",
		TmpDir:           "archive_tmp",
		DefaultFormat:    FormatWebM,
		MP4PLIInterval:   20 * time.Second,
		MaxExpireTime:    86400,
		MaxSplitDuration: 86400,
		Label:            "WebRTC SFU Sora",
		NodeName:         "kiroku@127.0.0.1",
	}
}

// Validate checks the configuration and fills QuarantineDir's default.
func (c *Config) Validate() error {
	var errs []error
	if c.ArchiveDir == "" || c.TmpDir == "" {
		errs = append(errs, errors.New("archive_dir and archive_tmp_dir must be set"))
	} else if same(c.ArchiveDir, c.TmpDir) || within(c.TmpDir, c.ArchiveDir) {
		errs = append(errs, fmt.Errorf("archive_tmp_dir (%s) must be a different directory from archive_dir (%s), outside it", c.TmpDir, c.ArchiveDir))
	}
	if c.QuarantineDir == "" && c.TmpDir != "" {
		c.QuarantineDir = filepath.Join(c.TmpDir, "quarantine")
	}
	if c.QuarantineDir != "" && c.ArchiveDir != "" && within(c.QuarantineDir, c.ArchiveDir) {
		errs = append(errs, errors.New("archive_quarantine_dir must be outside archive_dir"))
	}
	if _, err := ParseFormat(string(c.DefaultFormat)); err != nil {
		errs = append(errs, fmt.Errorf("default_recording_format: %w", err))
	}
	if c.MP4PLIInterval < time.Second || c.MP4PLIInterval > 240*time.Second {
		errs = append(errs, fmt.Errorf("default_recording_mp4_pli_interval: want 1 s to 240 s, got %v", c.MP4PLIInterval))
	}
	if c.MaxExpireTime < 1 || c.MaxExpireTime > 86400*365 {
		errs = append(errs, fmt.Errorf("recording_max_expire_time: want 1 to 31536000 seconds, got %d", c.MaxExpireTime))
	}
	if c.MaxSplitDuration < 1 || c.MaxSplitDuration > 86400*365 {
		errs = append(errs, fmt.Errorf("recording_max_split_duration: want 1 to 31536000 seconds, got %d", c.MaxSplitDuration))
	}
	return errors.Join(errs...)
}

func same(a, b string) bool {
	return filepath.Clean(abs(a)) == filepath.Clean(abs(b))
}

// within reports whether path lies inside dir.
func within(path, dir string) bool {
	rel, err := filepath.Rel(abs(dir), abs(path))
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../") && rel != "."
}

func abs(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
