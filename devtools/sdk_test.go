package devtools

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// browserDir holds the npm packages the project pins (make deps-node).
const browserDir = "../test/browser"

// TestEmbeddedSDKMatchesPinnedPackage fails when the committed sora-js-sdk
// differs from the npm package test/browser pins, byte for byte, or when
// SDKVersion names another version.
func TestEmbeddedSDKMatchesPinnedPackage(t *testing.T) {
	pkgDir := filepath.Join(browserDir, "node_modules", "sora-js-sdk")
	var installed struct {
		Version string `json:"version"`
	}
	readJSON(t, filepath.Join(pkgDir, "package.json"), &installed)
	var pins struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	readJSON(t, filepath.Join(browserDir, "package.json"), &pins)
	if pin := pins.Dependencies["sora-js-sdk"]; pin != SDKVersion || installed.Version != SDKVersion {
		t.Errorf("SDKVersion %s, test/browser/package.json pins %q, node_modules has %q", SDKVersion, pin, installed.Version)
	}
	for committed, npm := range map[string]string{
		"web/sora-js-sdk/sora.js": filepath.Join(pkgDir, "dist", "sora.js"),
		"web/sora-js-sdk/LICENSE": filepath.Join(pkgDir, "LICENSE"),
	} {
		want := readFile(t, npm)
		if got := readFile(t, committed); !bytes.Equal(got, want) {
			t.Errorf("%s (%d bytes) differs from %s (%d bytes): copy the pinned package's file", committed, len(got), npm, len(want))
		}
		embedded, err := webFiles.ReadFile(committed)
		if err != nil || !bytes.Equal(embedded, want) {
			t.Errorf("embedded %s differs from %s: %v", committed, npm, err)
		}
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run `make deps-node` for test/browser/node_modules)", err)
	}
	return b
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	if err := json.Unmarshal(readFile(t, path), v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
