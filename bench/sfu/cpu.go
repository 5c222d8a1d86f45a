package sfubench

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/kiroku-sfu/kiroku/bench/proccpu"
)

// rusageThread is RUSAGE_THREAD: getrusage for the calling thread only.
const rusageThread = 1

// runQueueWait returns how long the threads of process pid have waited
// for a CPU while runnable (field 2 of each /proc/PID/task/TID/schedstat;
// threads that have exited no longer count). On a shared machine this
// shows how much of a delay is other tenants' load.
func runQueueWait(pid int) (time.Duration, error) {
	paths, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	if err != nil || len(paths) == 0 {
		return 0, fmt.Errorf("read run-queue wait of %d: no tasks (%v)", pid, err)
	}
	var total time.Duration
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			continue // the thread exited
		}
		wait, err := parseSchedstatWait(data)
		if err != nil {
			return 0, fmt.Errorf("read run-queue wait of %d: %w", pid, err)
		}
		total += wait
	}
	return total, nil
}

// parseSchedstatWait reads the run-queue wait (ns, second field) of a
// schedstat line.
func parseSchedstatWait(line []byte) (time.Duration, error) {
	fields := bytes.Fields(line)
	if len(fields) < 2 {
		return 0, proccpu.ErrMalformed
	}
	ns, err := strconv.ParseInt(string(fields[1]), 10, 64)
	if err != nil || ns < 0 {
		return 0, fmt.Errorf("%w: schedstat %q", proccpu.ErrMalformed, line)
	}
	return time.Duration(ns), nil
}

// threadCPU returns the CPU time the calling OS thread has used; the
// caller must hold its thread (runtime.LockOSThread).
func threadCPU() (time.Duration, error) {
	return rusage(rusageThread)
}

// selfCPU returns the CPU time this whole process has used.
func selfCPU() (time.Duration, error) {
	return rusage(syscall.RUSAGE_SELF)
}

func rusage(who int) (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		return 0, fmt.Errorf("getrusage: %w", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

// processRunTime returns how long the threads of process pid have run
// (the first field of each /proc/PID/task/TID/schedstat, in ns; threads
// that have exited no longer count): finer than processCPU's 10 ms ticks,
// for short windows at low packet rates.
func processRunTime(pid int) (time.Duration, error) {
	paths, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	if err != nil || len(paths) == 0 {
		return 0, fmt.Errorf("read run time of %d: no tasks (%v)", pid, err)
	}
	var total time.Duration
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			continue // the thread exited
		}
		fields := bytes.Fields(data)
		if len(fields) < 1 {
			return 0, fmt.Errorf("read run time of %d: %w", pid, proccpu.ErrMalformed)
		}
		ns, err := strconv.ParseInt(string(fields[0]), 10, 64)
		if err != nil || ns < 0 {
			return 0, fmt.Errorf("read run time of %d: %w: schedstat %q", pid, proccpu.ErrMalformed, data)
		}
		total += time.Duration(ns)
	}
	return total, nil
}
