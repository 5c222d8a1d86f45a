package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestArchiveVerifyCommand(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "R1")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
		out  string
	}{
		{"usage", []string{"archive"}, 2, ""},
		{"unknown verb", []string{"archive", "check", empty}, 2, ""},
		{"missing dir", []string{"archive", "verify", filepath.Join(empty, "nope")}, 1, ""},
		{"unfinished recording", []string{"archive", "verify", empty}, 1, "report-R1.json"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(tc.args, &stdout, &stderr); code != tc.code || !strings.Contains(stdout.String(), tc.out) {
			t.Errorf("%s: exit %d, want %d; stdout %q stderr %q", tc.name, code, tc.code, stdout.String(), stderr.String())
		}
	}
}
