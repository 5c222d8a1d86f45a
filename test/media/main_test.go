package media

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// fixtureDir holds the RTP captures the suite replays.
const fixtureDir = "../../fixtures/rtpdumps"

// sfuBin is the cmd/sfu binary built by TestMain for this run. It is set
// before any test starts and never changed after.
var sfuBin string

func TestMain(m *testing.M) {
	if os.Getenv(crashChildEnv) != "" {
		os.Exit(runCrashChild())
	}
	os.Exit(runTests(m))
}

// runTests builds cmd/sfu into a temporary directory, runs the tests and
// removes the directory.
func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "kiroku-media-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "media:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	sfuBin = filepath.Join(dir, "sfu")
	cmd := exec.Command("go", "build", "-o", sfuBin, "github.com/kiroku-sfu/kiroku/cmd/sfu")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "media: build cmd/sfu:", err)
		return 1
	}
	return m.Run()
}
