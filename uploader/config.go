package uploader

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/kiroku-sfu/kiroku/config"
	"github.com/kiroku-sfu/kiroku/uploader/hook"
	"github.com/kiroku-sfu/kiroku/uploader/s3store"
)

// After-upload actions for local files, once their objects are verified.
const (
	ActionDelete   = "delete"   // remove the local files
	ActionEvacuate = "evacuate" // move them to evacuate_dir_full_path/<recording_id>/
	ActionKeep     = "keep"     // leave them; the journal remembers they are done
)

// Config is the uploader's configuration. Store and Hook are read from the
// same file (see LoadConfig); key names follow sora-archive-uploader where
// it has one.
type Config struct {
	// ArchiveDir is the recorder's archive_dir.
	ArchiveDir string `conf:"archive_dir_full_path"`
	// EvacuateDir receives the files when AfterUpload is "evacuate".
	EvacuateDir string `conf:"evacuate_dir_full_path"`
	// AfterUpload is delete, evacuate or keep.
	AfterUpload string `conf:"after_upload_action"`
	// Workers is the number of files uploaded at once.
	Workers int `conf:"upload_workers"`
	// RescanInterval is how often the whole directory is listed again, in
	// case file events were missed.
	RescanInterval time.Duration `conf:"rescan_interval"`
	// RetryMinInterval and RetryMaxInterval bound the backoff after a
	// transient failure.
	RetryMinInterval time.Duration `conf:"retry_min_interval"`
	RetryMaxInterval time.Duration `conf:"retry_max_interval"`
	// QuarantineRetryInterval is how often quarantined files are tried again.
	QuarantineRetryInterval time.Duration `conf:"quarantine_retry_interval"`
	// ShutdownTimeout is how long uploads in flight may finish after a stop
	// request before they are aborted.
	ShutdownTimeout time.Duration `conf:"shutdown_timeout"`
	// ProgressInterval spaces the progress lines of multipart uploads.
	ProgressInterval time.Duration `conf:"progress_interval"`
	// MetricsListenAddress serves /metrics and /quarantine; empty: off.
	MetricsListenAddress string `conf:"metrics_listen_address"`
	// Debug logs every step.
	Debug bool `conf:"debug"`

	Store s3store.Config
	Hook  hook.Config
}

// DefaultConfig returns working defaults for everything but the directory
// and the bucket.
func DefaultConfig() Config {
	return Config{
		AfterUpload:             ActionDelete,
		Workers:                 4,
		RescanInterval:          30 * time.Second,
		RetryMinInterval:        time.Second,
		RetryMaxInterval:        time.Minute,
		QuarantineRetryInterval: 10 * time.Minute,
		ShutdownTimeout:         30 * time.Second,
		ProgressInterval:        10 * time.Second,
		MetricsListenAddress:    "127.0.0.1:9810",
		Store:                   s3store.DefaultConfig(),
		Hook:                    hook.DefaultConfig(),
	}
}

// LoadConfig reads path over DefaultConfig and validates the result.
func LoadConfig(path string) (Config, error) {
	cfg := DefaultConfig()
	if err := config.Load(path, &cfg, &cfg.Store, &cfg.Hook); err != nil {
		return Config{}, err
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// Validate reports every problem of c at once.
func (c Config) Validate() error {
	var errs []error
	if !filepath.IsAbs(c.ArchiveDir) {
		errs = append(errs, fmt.Errorf("archive_dir_full_path %q: want an absolute path", c.ArchiveDir))
	}
	switch c.AfterUpload {
	case ActionDelete, ActionKeep:
	case ActionEvacuate:
		if !filepath.IsAbs(c.EvacuateDir) || filepath.Clean(c.EvacuateDir) == filepath.Clean(c.ArchiveDir) {
			errs = append(errs, fmt.Errorf("evacuate_dir_full_path %q: want an absolute path other than archive_dir_full_path", c.EvacuateDir))
		}
	default:
		errs = append(errs, fmt.Errorf("after_upload_action %q: want delete, evacuate or keep", c.AfterUpload))
	}
	if c.Workers < 1 || c.Workers > 256 {
		errs = append(errs, fmt.Errorf("upload_workers %d: want 1…256", c.Workers))
	}
	for _, d := range []struct {
		key string
		v   time.Duration
	}{
		{"rescan_interval", c.RescanInterval}, {"retry_min_interval", c.RetryMinInterval},
		{"retry_max_interval", c.RetryMaxInterval}, {"quarantine_retry_interval", c.QuarantineRetryInterval},
		{"shutdown_timeout", c.ShutdownTimeout}, {"progress_interval", c.ProgressInterval},
	} {
		if d.v <= 0 {
			errs = append(errs, fmt.Errorf("%s %v: want more than 0", d.key, d.v))
		}
	}
	if c.RetryMaxInterval < c.RetryMinInterval {
		errs = append(errs, errors.New("retry_max_interval is shorter than retry_min_interval"))
	}
	errs = append(errs, c.Store.Validate(), c.Hook.Validate())
	return errors.Join(errs...)
}
