package uploader

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestExampleConfigLoads(t *testing.T) {
	cfg, err := LoadConfig("uploader.example.conf")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ArchiveDir != "/var/lib/kiroku/archive" || cfg.Store.Bucket != "recordings" || !cfg.Store.PathStyle ||
		cfg.Workers != 4 || cfg.RescanInterval != 30*time.Second || cfg.Hook.Timeout != 30*time.Second {
		t.Errorf("example config read as %+v", cfg)
	}
}

func TestLoadConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		text string
		want string
	}{
		{"unknown key", "archive_dir_full_path = /a\nobject_storage_bucket_name = b\nlog_dir = .\n", "3: log_dir: unknown key"},
		{"bad duration", "archive_dir_full_path = /a\nrescan_interval = soon\n", "rescan_interval"},
		{"missing bucket", "archive_dir_full_path = /a\n", "object_storage_bucket_name is required"},
		{"relative dir", "archive_dir_full_path = a\nobject_storage_bucket_name = b\n", "archive_dir_full_path"},
		{"evacuate without dir", "archive_dir_full_path = /a\nobject_storage_bucket_name = b\nafter_upload_action = evacuate\n", "evacuate_dir_full_path"},
		{"bad action", "archive_dir_full_path = /a\nobject_storage_bucket_name = b\nafter_upload_action = shred\n", "after_upload_action"},
		{"no workers", "archive_dir_full_path = /a\nobject_storage_bucket_name = b\nupload_workers = 0\n", "upload_workers"},
		{"retry bounds", "archive_dir_full_path = /a\nobject_storage_bucket_name = b\nretry_min_interval = 2 min\n", "retry_max_interval"},
		{"webhook url", "archive_dir_full_path = /a\nobject_storage_bucket_name = b\nwebhook_endpoint_url = x\n", "webhook_endpoint_url"},
		{"ok", "archive_dir_full_path = /a\nobject_storage_bucket_name = b\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "u.conf")
			if err := os.WriteFile(path, []byte(tt.text), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := LoadConfig(path)
			if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("LoadConfig = %v, want %q", err, tt.want)
			}
		})
	}
}
