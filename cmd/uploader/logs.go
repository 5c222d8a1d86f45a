package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/kiroku-sfu/kiroku/config"
	"github.com/kiroku-sfu/kiroku/logfile"
	"github.com/kiroku-sfu/kiroku/uploader"
)

// logConfig holds sora-archive-uploader's log keys that the uploader
// implements. Rotation (log_rotate_*) is left to logrotate: SIGHUP
// reopens the file.
type logConfig struct {
	// Dir receives Name; empty logs to standard output.
	Dir  string `conf:"log_dir"`
	Name string `conf:"log_name"`
	// Stdout logs to standard output even when Dir is set.
	Stdout bool `conf:"log_stdout"`
}

func defaultLogConfig() logConfig { return logConfig{Name: "uploader.jsonl"} }

func (c logConfig) validate() error {
	if c.Name == "" || strings.ContainsRune(c.Name, '/') {
		return fmt.Errorf("log_name %q: want a file name", c.Name)
	}
	return nil
}

// loadConfig reads the uploader's configuration and its log keys from
// one file, as uploader.LoadConfig does for the rest.
func loadConfig(path string) (uploader.Config, logConfig, error) {
	cfg, lc := uploader.DefaultConfig(), defaultLogConfig()
	if err := config.Load(path, &cfg, &cfg.Store, &cfg.Hook, &lc); err != nil {
		return cfg, lc, err
	}
	if err := errors.Join(cfg.Validate(), lc.validate()); err != nil {
		return cfg, lc, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, lc, nil
}

// openLog is the uploader's JSON logger as lc says (debug turns on debug
// lines) and the log file to reopen on SIGHUP, nil on standard output.
func openLog(lc logConfig, debug bool, stdout io.Writer) (*slog.Logger, *logfile.File, error) {
	level := slog.LevelInfo
	if debug {
		level = slog.LevelDebug
	}
	out, file := stdout, (*logfile.File)(nil)
	if lc.Dir != "" && !lc.Stdout {
		f, err := logfile.Open(filepath.Join(lc.Dir, lc.Name))
		if err != nil {
			return nil, nil, err
		}
		out, file = f, f
	}
	return slog.New(slog.NewJSONHandler(out, &slog.HandlerOptions{Level: level})), file, nil
}
