package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoadConfigLogKeys reads the example configuration with its log
// keys set and refuses a log_name that is a path.
func TestLoadConfigLogKeys(t *testing.T) {
	example, err := os.ReadFile("../../uploader/uploader.example.conf")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, tc := range []struct {
		name, extra, want string
		lc                logConfig
	}{
		{"defaults", "", "", logConfig{Name: "uploader.jsonl"}},
		{"set", "log_dir = " + dir + "\nlog_name = up.jsonl\nlog_stdout = true\n", "", logConfig{Dir: dir, Name: "up.jsonl", Stdout: true}},
		{"path as name", "log_name = a/b.jsonl\n", "log_name", logConfig{}},
		{"rotation keys", "log_rotate_max_size = 10\n", "log_rotate_max_size", logConfig{}},
	} {
		path := filepath.Join(dir, tc.name+".conf")
		body := strings.ReplaceAll(string(example), "archive_dir_full_path = /var/lib/kiroku/archive", "archive_dir_full_path = "+dir)
		if err := os.WriteFile(path, []byte(body+tc.extra), 0o644); err != nil {
			t.Fatal(err)
		}
		_, lc, err := loadConfig(path)
		switch {
		case tc.want != "":
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: err %v, want %q", tc.name, err, tc.want)
			}
		case err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case lc != tc.lc:
			t.Errorf("%s: %+v, want %+v", tc.name, lc, tc.lc)
		}
	}
}

// TestOpenLog logs into the file, or to stdout without log_dir or with
// log_stdout, and reopens the file after a rename.
func TestOpenLog(t *testing.T) {
	dir := t.TempDir()
	for _, lc := range []logConfig{{Name: "a.jsonl"}, {Dir: dir, Name: "a.jsonl", Stdout: true}} {
		var out bytes.Buffer
		log, f, err := openLog(lc, false, &out)
		if err != nil || f != nil {
			t.Fatalf("%+v: file %v, err %v", lc, f, err)
		}
		log.Debug("hidden")
		log.Info("shown")
		if s := out.String(); !strings.Contains(s, "shown") || strings.Contains(s, "hidden") {
			t.Errorf("%+v: stdout %q", lc, s)
		}
	}
	log, f, err := openLog(logConfig{Dir: dir, Name: "a.jsonl"}, true, nil)
	if err != nil || f == nil {
		t.Fatalf("file: %v %v", f, err)
	}
	defer f.Close()
	log.Debug("one")
	path := filepath.Join(dir, "a.jsonl")
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	if err := f.Reopen(); err != nil {
		t.Fatal(err)
	}
	log.Debug("two")
	old, _ := os.ReadFile(path + ".1")
	cur, _ := os.ReadFile(path)
	if !strings.Contains(string(old), `"one"`) || !strings.Contains(string(cur), `"two"`) || strings.Contains(string(cur), `"one"`) {
		t.Errorf("old %q new %q", old, cur)
	}
}
