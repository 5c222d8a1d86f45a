package node

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOpenLogs writes the process log where the settings say.
func TestOpenLogs(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name        string
		dir         string
		stdout      bool
		where       string // stdout, stderr or file
		level, want string
	}{
		{"stderr by default", "", false, "stderr", "info", ""},
		{"file in log_dir", dir, false, "file", "info", ""},
		{"log_stdout wins over log_dir", dir, true, "stdout", "debug", ""},
		{"bad level", "", false, "", "loud", "log_level"},
	} {
		st := defaultSettings()
		st.serve.LogDir, st.serve.LogStdout, st.serve.LogLevel = tc.dir, tc.stdout, tc.level
		_ = os.Remove(filepath.Join(dir, processLog))
		var stdout, stderr bytes.Buffer
		logs, err := OpenLogs(st, &stdout, &stderr)
		if tc.want != "" {
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: err %v, want %q", tc.name, err, tc.want)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		logs.Logger.Info("hello")
		if err := logs.Close(); err != nil {
			t.Fatal(err)
		}
		file, _ := os.ReadFile(filepath.Join(dir, processLog))
		got := map[string]string{"stdout": stdout.String(), "stderr": stderr.String(), "file": string(file)}
		for where, text := range got {
			if has := strings.Contains(text, `"msg":"hello"`); has != (where == tc.where) {
				t.Errorf("%s: line in %s: %v", tc.name, where, has)
			}
		}
	}
}

// TestLogsReopen reopens the process log after a rename and calls the
// attached components' reopen until they detach.
func TestLogsReopen(t *testing.T) {
	dir := t.TempDir()
	st := defaultSettings()
	st.serve.LogDir = dir
	logs, err := OpenLogs(st, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer logs.Close()
	calls := 0
	detach := logs.attach(func() error { calls++; return errors.New("disk gone") })
	logs.Logger.Info("before")
	path := filepath.Join(dir, processLog)
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	if err := logs.Reopen(); err == nil || !strings.Contains(err.Error(), "disk gone") || calls != 1 {
		t.Errorf("Reopen = %v after %d calls, want the component's error", err, calls)
	}
	logs.Logger.Info("after")
	detach()
	if err := logs.Reopen(); err != nil || calls != 1 {
		t.Errorf("Reopen after detach = %v, %d calls", err, calls)
	}
	old, _ := os.ReadFile(path + ".1")
	cur, _ := os.ReadFile(path)
	if !strings.Contains(string(old), "before") || strings.Contains(string(old), "after") ||
		!strings.Contains(string(cur), "after") {
		t.Errorf("old %q, new %q", old, cur)
	}
}
