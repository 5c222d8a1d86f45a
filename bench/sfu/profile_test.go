package sfubench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// perfDirEnv names a directory; when set, every load step is followed by a
// CPU profile of the SFU process with perf (outside the measured windows,
// since sampling costs CPU), written there as NAME.data and NAME.txt.
const perfDirEnv = "KIROKU_BENCH_PERF_DIR"

// profileSFU records d of the SFU's CPU with perf when perfDirEnv is set.
func profileSFU(b *testing.B, pid int, name string, d time.Duration) {
	dir := os.Getenv(perfDirEnv)
	if dir == "" {
		return
	}
	if _, err := exec.LookPath("perf"); err != nil {
		b.Fatalf("%s is set but perf is missing: %v", perfDirEnv, err)
	}
	base := filepath.Join(dir, strings.NewReplacer("=", "-", "/", "-").Replace(name))
	record := exec.Command("perf", "record", "-q", "-F", "999", "-g", "-p", fmt.Sprint(pid),
		"-o", base+".data", "--", "sleep", fmt.Sprint(d.Seconds()))
	if out, err := record.CombinedOutput(); err != nil {
		b.Fatalf("perf record: %v\n%s", err, out)
	}
	report := exec.Command("perf", "report", "-i", base+".data", "--stdio", "--no-children",
		"--sort", "symbol", "--percent-limit", "0.5", "-g", "none")
	out, err := report.Output()
	if err != nil {
		b.Fatalf("perf report: %v", err)
	}
	if err := os.WriteFile(base+".txt", out, 0o644); err != nil {
		b.Fatal(err)
	}
	b.Logf("%s: SFU profile in %s.txt", name, base)
}
