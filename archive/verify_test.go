package archive

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kiroku-sfu/kiroku/archive/jsonschema"
)

// schemaValidator validates with the repository's schemas.
func schemaValidator(t *testing.T) func(string, []byte) []string {
	return func(name string, doc []byte) []string {
		raw, err := Schema(name)
		if err != nil {
			return []string{err.Error()}
		}
		s, err := jsonschema.Compile(raw)
		if err != nil {
			t.Fatal(err)
		}
		return s.Validate(doc)
	}
}

// verifyOK fails the test unless Verify finds dir clean.
func verifyOK(t *testing.T, dir string) {
	t.Helper()
	v, err := Verify(dir, VerifyOptions{ValidateJSON: schemaValidator(t)})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := v.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	if !v.OK() {
		t.Errorf("verify %s:\n%s", dir, b.String())
	}
}

// TestVerifyFindsDamage records a dual-output recording, then damages it
// one way per case and expects Verify to name the problem.
func TestVerifyFindsDamage(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.DualOutput = true }, 1<<15)
	fx := loadFixture(t, "vp8_opus", "C1", 5*time.Second)
	dir, in := recordFixture(t, e, fx, Options{SplitDuration: 2})
	verifyOK(t, dir)
	pristine := t.TempDir()
	copyDir(t, dir, pristine)
	for _, tc := range []struct {
		name   string
		damage func(dir string)
		want   string
	}{
		{"media without JSON", func(d string) { os.Remove(filepath.Join(d, ArchiveMeta("C1"))) }, "no archive-C1.json beside it"},
		{"JSON without media", func(d string) { os.Remove(filepath.Join(d, SplitMedia("C1", 2, FormatWebM))) }, "JSON without its media file"},
		{"truncated media", func(d string) {
			p := filepath.Join(d, ArchiveMedia("C1", FormatWebM))
			fi, _ := os.Stat(p)
			os.Truncate(p, fi.Size()/2)
		}, "unreadable"},
		{"stray file", func(d string) { os.WriteFile(filepath.Join(d, ".archive-C1.json.tmp-1"), nil, 0o644) }, "not a recording file"},
		{"no report", func(d string) { os.Remove(filepath.Join(d, Report(in.RecordingID))) }, "did not finish"},
		{"report misses an archive", func(d string) {
			p := filepath.Join(d, Report(in.RecordingID))
			var rep map[string]any
			b, _ := os.ReadFile(p)
			json.Unmarshal(b, &rep)
			rep["archives"] = []any{}
			b, _ = json.Marshal(rep)
			os.WriteFile(p, b, 0o644)
		}, "not listed in"},
		{"JSON breaks the schema", func(d string) {
			p := filepath.Join(d, SplitMeta("C1", 1))
			b, _ := os.ReadFile(p)
			os.WriteFile(p, bytes.Replace(b, []byte(`"format": "webm"`), []byte(`"format": "avi"`), 1), 0o644)
		}, "schema"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := filepath.Join(t.TempDir(), in.RecordingID)
			copyDir(t, pristine, d)
			tc.damage(d)
			v, err := Verify(d, VerifyOptions{ValidateJSON: schemaValidator(t)})
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			v.WriteTable(&b)
			if v.OK() || !strings.Contains(b.String(), tc.want) {
				t.Errorf("want a problem %q, got:\n%s", tc.want, b.String())
			}
		})
	}
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(to, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if err := copyFile(filepath.Join(from, e.Name()), filepath.Join(to, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
}
