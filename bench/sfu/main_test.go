package sfubench

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// sfuBinary is cmd/sfu built by TestMain before any test or benchmark
// runs; it is not changed afterwards.
var sfuBinary string

func TestMain(m *testing.M) {
	if os.Getenv("KIROKU_NETNS") != "1" {
		os.Exit(reexecInNamespace())
	}
	dir, err := os.MkdirTemp("", "kiroku-bench-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "sfubench:", err)
		os.Exit(1)
	}
	sfuBinary = filepath.Join(dir, "sfu")
	out, err := exec.Command("go", "build", "-o", sfuBinary, "../../cmd/sfu").CombinedOutput()
	code := 1
	if err != nil {
		fmt.Fprintf(os.Stderr, "sfubench: build cmd/sfu: %v\n%s", err, out)
	} else {
		code = m.Run()
	}
	if err := os.RemoveAll(dir); err != nil {
		fmt.Fprintln(os.Stderr, "sfubench:", err)
	}
	os.Exit(code)
}

// reexecInNamespace runs this test binary again inside netns.sh and
// returns its exit code. Missing tools fail the run rather than skip it.
func reexecInNamespace() int {
	for _, tool := range []string{"unshare", "ip"} {
		if _, err := exec.LookPath(tool); err != nil {
			fmt.Fprintf(os.Stderr, "sfubench: %s is required (make deps): %v\n", tool, err)
			return 1
		}
	}
	script, err := filepath.Abs("../../test/browser/netns.sh")
	if err != nil {
		fmt.Fprintln(os.Stderr, "sfubench:", err)
		return 1
	}
	cmd := exec.Command(script, append([]string{os.Args[0]}, os.Args[1:]...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode()
		}
		fmt.Fprintln(os.Stderr, "sfubench: run in namespace:", err)
		return 1
	}
	return 0
}
