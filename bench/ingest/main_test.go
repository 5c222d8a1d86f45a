package ingestbench

import (
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// netnsEnv marks the test binary re-run inside its own network namespace.
const netnsEnv = "KIROKU_INGEST_NETNS"

// TestMain runs the floor receiver when this binary is started as one;
// for benchmarks it re-runs the binary in a network namespace of its own
// (the client's), where the benchmark makes the servers' namespace. Plain
// tests need neither root nor namespaces.
func TestMain(m *testing.M) {
	if addr := os.Getenv(floorAddrEnv); addr != "" {
		os.Exit(floorMain(addr, os.Getenv(floorKeyEnv)))
	}
	flag.Parse()
	if f := flag.Lookup("test.bench"); f == nil || f.Value.String() == "" || os.Getenv(netnsEnv) == "1" {
		os.Exit(m.Run())
	}
	os.Exit(reexecInNamespace())
}

// floorMain is the floor receiver process's main.
func floorMain(addr, keyHex string) int {
	key, err := hex.DecodeString(keyHex)
	if err == nil {
		err = runFloorReceiver(addr, key, os.Stdin, os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "floor receiver:", err)
		return 1
	}
	return 0
}

// reexecInNamespace runs this test binary again inside `unshare --net`
// and returns its exit code. Missing tools fail the run.
func reexecInNamespace() int {
	for _, tool := range []string{"unshare", "nsenter", "ip"} {
		if _, err := exec.LookPath(tool); err != nil {
			fmt.Fprintf(os.Stderr, "ingestbench: %s is required (make deps): %v\n", tool, err)
			return 1
		}
	}
	cmd := exec.Command("unshare", append([]string{"--net", "--", os.Args[0]}, os.Args[1:]...)...)
	cmd.Env = append(os.Environ(), netnsEnv+"=1")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode()
		}
		fmt.Fprintln(os.Stderr, "ingestbench: run in a namespace:", err)
		return 1
	}
	return 0
}
