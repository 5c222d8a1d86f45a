package archive

import (
	"errors"
	"testing"
	"time"
)

func TestResolveFollowsSorasTable(t *testing.T) {
	cfg := DefaultConfig()
	dual := cfg
	dual.DualOutput = true
	for _, tc := range []struct {
		name string
		cfg  Config
		opts Options
		want Output
		err  bool
	}{
		{"single", cfg, Options{}, Output{Single: true}, false},
		{"single with expiry", cfg, Options{ExpireTime: 60}, Output{Single: true}, false},
		{"split only", cfg, Options{SplitOnly: true, SplitDuration: 5}, Output{Split: true}, false},
		{"dual", dual, Options{SplitDuration: 5}, Output{Single: true, Split: true}, false},
		{"split without dual output", cfg, Options{SplitDuration: 5}, Output{}, true},
		{"split_only without duration", cfg, Options{SplitOnly: true}, Output{}, true},
		{"expire over the cap", cfg, Options{ExpireTime: 86401}, Output{}, true},
		{"negative expire", cfg, Options{ExpireTime: -1}, Output{}, true},
		{"split over the cap", cfg, Options{SplitOnly: true, SplitDuration: 86401}, Output{}, true},
		{"bad format", cfg, Options{Format: "mkv"}, Output{}, true},
		{"bad metadata", cfg, Options{Metadata: []byte("{")}, Output{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, out, err := tc.cfg.Resolve(tc.opts)
			if tc.err {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("err = %v, want ErrInvalid", err)
				}
				return
			}
			if err != nil || out != tc.want {
				t.Fatalf("Resolve = %+v, %v; want %+v", out, err, tc.want)
			}
			if got.Format != FormatWebM {
				t.Errorf("default format = %q, want webm", got.Format)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	base := DefaultConfig()
	base.ArchiveDir, base.TmpDir = "/srv/archive", "/srv/archive_tmp"
	for _, tc := range []struct {
		name   string
		mutate func(*Config)
		ok     bool
	}{
		{"defaults", func(*Config) {}, true},
		{"same dirs", func(c *Config) { c.TmpDir = "/srv/archive/" }, false},
		{"tmp inside archive", func(c *Config) { c.TmpDir = "/srv/archive/tmp" }, false},
		{"quarantine inside archive", func(c *Config) { c.QuarantineDir = "/srv/archive/q" }, false},
		{"bad format", func(c *Config) { c.DefaultFormat = "avi" }, false},
		{"pli too short", func(c *Config) { c.MP4PLIInterval = 500 * time.Millisecond }, false},
		{"pli too long", func(c *Config) { c.MP4PLIInterval = 241 * time.Second }, false},
		{"zero caps", func(c *Config) { c.MaxExpireTime = 0 }, false},
	} {
		cfg := base
		tc.mutate(&cfg)
		if err := cfg.Validate(); (err == nil) != tc.ok {
			t.Errorf("%s: Validate() = %v", tc.name, err)
		}
	}
	cfg := base
	if err := cfg.Validate(); err != nil || cfg.QuarantineDir != "/srv/archive_tmp/quarantine" {
		t.Errorf("quarantine default = %q, %v", cfg.QuarantineDir, err)
	}
}
