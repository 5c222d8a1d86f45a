// Package proccpu reads the CPU time a process has used from
// /proc/PID/stat, for benchmarks that charge a server's CPU to the work
// they give it.
package proccpu

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"
)

// clockTick is the unit of utime and stime in /proc/PID/stat (USER_HZ,
// 100 on every Linux architecture Go supports).
const clockTick = 10 * time.Millisecond

// ErrMalformed reports a /proc line that cannot be read.
var ErrMalformed = errors.New("malformed /proc stat line")

// Process returns the user plus system CPU time process pid has used,
// its exited threads included.
func Process(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read process cpu: %w", err)
	}
	d, err := ParseStat(data)
	if err != nil {
		return 0, fmt.Errorf("read process cpu of %d: %w", pid, err)
	}
	return d, nil
}

// ParseStat reads utime and stime (fields 14 and 15) of a /proc stat
// line. The command name (field 2) is in parentheses and may hold spaces
// and parentheses itself, so fields are counted after the last ')'.
func ParseStat(line []byte) (time.Duration, error) {
	end := bytes.LastIndexByte(line, ')')
	if end < 0 {
		return 0, ErrMalformed
	}
	fields := bytes.Fields(line[end+1:])
	// fields[0] is field 3 (state); utime is field 14.
	const utime, stime = 14 - 3, 15 - 3
	if len(fields) <= stime {
		return 0, ErrMalformed
	}
	var total time.Duration
	for _, f := range [][]byte{fields[utime], fields[stime]} {
		ticks, err := strconv.ParseUint(string(f), 10, 32)
		if err != nil {
			return 0, fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		total += time.Duration(ticks) * clockTick
	}
	return total, nil
}

// Timeslices returns how many times the threads of process pid alive now
// were put on a CPU (the third field of /proc/PID/task/TID/schedstat):
// about one per wake-up, the count that wake-up-bound servers differ in.
// Threads that exited are not counted.
func Timeslices(pid int) (uint64, error) {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return 0, fmt.Errorf("read process threads: %w", err)
	}
	var total uint64
	for _, t := range tasks {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/schedstat", pid, t.Name()))
		if errors.Is(err, os.ErrNotExist) {
			continue // the thread exited meanwhile
		}
		if err != nil {
			return 0, fmt.Errorf("read thread schedstat: %w", err)
		}
		n, err := ParseSchedstat(data)
		if err != nil {
			return 0, fmt.Errorf("thread %s of %d: %w", t.Name(), pid, err)
		}
		total += n
	}
	return total, nil
}

// ParseSchedstat reads the timeslice count (the third field) of a
// /proc schedstat line: run time, wait time, timeslices.
func ParseSchedstat(line []byte) (uint64, error) {
	fields := bytes.Fields(line)
	if len(fields) < 3 {
		return 0, ErrMalformed
	}
	n, err := strconv.ParseUint(string(fields[2]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return n, nil
}
