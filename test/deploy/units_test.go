// Package deploy checks the deployment examples in deploy/ with the tools
// that will read them.
package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSystemdUnits runs systemd-analyze verify on each unit of
// deploy/systemd, with ExecStart pointing at freshly built binaries
// instead of /usr/local/bin (verify checks that the command exists).
func TestSystemdUnits(t *testing.T) {
	dir := t.TempDir()
	bins := map[string]string{"/usr/local/bin/kiroku-sfu": "./cmd/sfu", "/usr/local/bin/kiroku-uploader": "./cmd/uploader"}
	replace := []string{}
	for installed, pkg := range bins {
		out := filepath.Join(dir, filepath.Base(installed))
		build := exec.Command("go", "build", "-o", out, pkg)
		build.Dir = filepath.Join("..", "..")
		if b, err := build.CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v: %s", pkg, err, b)
		}
		replace = append(replace, installed, out)
	}
	for _, unit := range []string{"kiroku-sfu.service", "kiroku-uploader.service"} {
		t.Run(unit, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("..", "..", "deploy", "systemd", unit))
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, unit)
			if err := os.WriteFile(path, []byte(strings.NewReplacer(replace...).Replace(string(raw))), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command("systemd-analyze", "verify", "--man=no", path).CombinedOutput()
			// Only this unit's findings count: the host's own units may
			// have some of their own.
			var mine []string
			for _, line := range strings.Split(string(out), "\n") {
				if strings.Contains(line, unit) {
					mine = append(mine, line)
				}
			}
			if err != nil || len(mine) > 0 {
				t.Fatalf("systemd-analyze verify %s: %v\n%s", unit, err, out)
			}
		})
	}
}
