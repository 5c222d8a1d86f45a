package remux

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// outputDigests lists the SHA-256 of every capture's output, one
// "DIGEST  NAME.FORMAT" line each, '#' lines being comments.
const outputDigests = "testdata/output.sha256"

// TestCaptureOutputUnchanged muxes every capture listed in
// testdata/output.sha256 (all of fixtures/rtpdumps, clean and adversarial:
// loss, reordering, wraps, SSRC changes, padding, DTX, mid-GOP starts, size
// changes, missing parameter sets) into each format and checks that the
// file is byte for byte what the code before the in-order fast paths wrote.
// Work on speed must not change a byte; a change of the output on purpose
// rewrites the list with KIROKU_UPDATE_OUTPUT_SHA256=1 and says why in its
// commit.
func TestCaptureOutputUnchanged(t *testing.T) {
	want, err := readDigests(outputDigests)
	if err != nil {
		t.Fatal(err)
	}
	if len(want) < 90 {
		t.Fatalf("%s lists %d outputs, want every capture", outputDigests, len(want))
	}
	update := os.Getenv("KIROKU_UPDATE_OUTPUT_SHA256") == "1"
	dir := t.TempDir()
	got := map[string]string{}
	for _, file := range sortedKeys(want) {
		name, format, _ := strings.Cut(file, ".")
		f, err := ParseFormat(format)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		out := filepath.Join(dir, file)
		if _, err := Capture(filepath.Join("..", "..", "fixtures", "rtpdumps", name), f, out, nil); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if got[file], err = fileDigest(out); err != nil {
			t.Fatal(err)
		}
		if !update && got[file] != want[file] {
			t.Errorf("%s: SHA-256 %s, want %s", file, got[file], want[file])
		}
	}
	if update {
		if err := writeDigests(outputDigests, got); err != nil {
			t.Fatal(err)
		}
	}
}

// readDigests reads a digest list into name → digest.
func readDigests(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for i, line := range strings.Split(string(data), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		digest, name, ok := strings.Cut(line, "  ")
		if !ok || len(digest) != 64 {
			return nil, fmt.Errorf("%s:%d: want \"DIGEST  NAME\", got %q", path, i+1, line)
		}
		out[name] = digest
	}
	return out, nil
}

// writeDigests rewrites the digest list, keeping its comment lines.
func writeDigests(path string, digests map[string]string) error {
	old, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var b strings.Builder
	for _, line := range strings.Split(string(old), "\n") {
		if strings.HasPrefix(line, "#") {
			b.WriteString(line + "\n")
		}
	}
	for _, name := range sortedKeys(digests) {
		fmt.Fprintf(&b, "%s  %s\n", digests[name], name)
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// fileDigest returns the hex SHA-256 of a file.
func fileDigest(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := bufio.NewReader(f).WriteTo(h); err != nil {
		return "", fmt.Errorf("digest %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func sortedKeys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }
