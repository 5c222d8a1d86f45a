// Package soraconf checks sora.example.conf against the code: every key it
// shows parses, and every default it shows is the code's default.
package soraconf

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/kiroku-sfu/kiroku/node"
)

// keyLine matches a `key = value` line, live or commented out.
var keyLine = regexp.MustCompile(`^(#\s*)?([a-z][a-z0-9_]*)\s*=(.*)$`)

// exampleLines returns the key lines of sora.example.conf, uncommented.
func exampleLines(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile("../../sora.example.conf")
	if err != nil {
		t.Fatal(err)
	}
	lines := map[string]string{}
	for _, l := range strings.Split(string(b), "\n") {
		m := keyLine.FindStringSubmatch(strings.TrimSpace(l))
		if m == nil {
			continue
		}
		if _, dup := lines[m[2]]; dup {
			t.Errorf("sora.example.conf shows %s twice", m[2])
		}
		lines[m[2]] = m[2] + " =" + m[3]
	}
	if len(lines) < 40 {
		t.Fatalf("found only %d keys in sora.example.conf", len(lines))
	}
	return lines
}

func load(t *testing.T, conf string) (node.Settings, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sora.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return node.LoadSettings(path)
}

// TestExampleShowsTheDefaults uncomments each key of sora.example.conf
// alone: it must parse and leave the settings equal to the defaults, since
// the example shows every key with its default value.
func TestExampleShowsTheDefaults(t *testing.T) {
	defaults, err := node.LoadSettings("")
	if err != nil {
		t.Fatal(err)
	}
	for key, line := range exampleLines(t) {
		got, err := load(t, line+"\n")
		if err != nil {
			t.Errorf("%s: %v", line, err)
			continue
		}
		if !reflect.DeepEqual(got, defaults) {
			t.Errorf("sora.example.conf shows `%s`, which is not the code's default for %s", line, key)
		}
	}
}

// TestExampleParsesWhole uncomments every key at once: the whole example
// is one valid configuration equal to the defaults.
func TestExampleParsesWhole(t *testing.T) {
	defaults, err := node.LoadSettings("")
	if err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	for _, line := range exampleLines(t) {
		all.WriteString(line + "\n")
	}
	got, err := load(t, all.String())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, defaults) {
		t.Error("the example with every key uncommented differs from the defaults")
	}
}
