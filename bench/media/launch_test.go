package media

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// launchEnv makes the test binary a launcher instead of running tests: it
// runs its arguments as a command and writes the command's wall time, CPU
// time (user + system) and peak RSS to the file the variable names.
//
// Why a launcher: Linux gives a child started by a Go process (which execs
// through vfork) a peak RSS of at least the parent's own peak at the time,
// so rusage measured from the benchmark process, grown by loading and
// writing captures, would hide a smaller child's peak. A freshly started
// launcher's own peak is a few MiB, below that of either process measured.
const launchEnv = "KIROKU_BENCH_LAUNCH_RESULT"

func TestMain(m *testing.M) {
	if out := os.Getenv(launchEnv); out != "" {
		os.Exit(launch(out, os.Args[1:]))
	}
	os.Exit(m.Run())
}

// launch runs args with the launcher's standard output and error and
// writes "WALL_NS CPU_NS RSS_BYTES" to out. It returns the command's exit code.
func launch(out string, args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "launch: no command")
		return 2
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		fmt.Fprintln(os.Stderr, "launch:", err)
		return 1
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		fmt.Fprintln(os.Stderr, "launch: no resource usage")
		return 1
	}
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	res := fmt.Sprintf("%d %d %d\n", wall.Nanoseconds(), cpu.Nanoseconds(), ru.Maxrss<<10)
	if err := os.WriteFile(out, []byte(res), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "launch:", err)
		return 1
	}
	return 0
}

// run is one timed process: its wall time, CPU time and peak resident set.
type run struct {
	wall time.Duration
	cpu  time.Duration
	rss  int64 // bytes
}

// runProcess runs name with args through the launcher (see launchEnv) and
// returns its wall time, from start to exit, its peak RSS and its standard
// output. resultFile is where the launcher leaves its figures.
func runProcess(resultFile, name string, args ...string) (run, []byte, error) {
	self, err := os.Executable()
	if err != nil {
		return run{}, nil, fmt.Errorf("bench: find the test binary: %w", err)
	}
	cmd := exec.Command(self, append([]string{name}, args...)...)
	cmd.Env = append(os.Environ(), launchEnv+"="+resultFile)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return run{}, nil, fmt.Errorf("bench: %s: %w: %s", name, err, stderr.Bytes())
	}
	r, err := readLaunch(resultFile)
	return r, stdout.Bytes(), err
}

// readLaunch reads the figures a launcher wrote.
func readLaunch(path string) (run, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return run{}, fmt.Errorf("bench: launcher result: %w", err)
	}
	f := strings.Fields(string(b))
	if len(f) != 3 {
		return run{}, fmt.Errorf("bench: launcher result %q", b)
	}
	var v [3]int64
	for i := range v {
		if v[i], err = strconv.ParseInt(f[i], 10, 64); err != nil {
			return run{}, fmt.Errorf("bench: launcher result %q: %w", b, err)
		}
	}
	return run{wall: time.Duration(v[0]), cpu: time.Duration(v[1]), rss: v[2]}, nil
}
