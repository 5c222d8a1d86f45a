package sfubench

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"
)

// clockTick is the unit of utime and stime in /proc/PID/stat (USER_HZ,
// 100 on every Linux architecture Go supports).
const clockTick = 10 * time.Millisecond

// rusageThread is RUSAGE_THREAD: getrusage for the calling thread only.
const rusageThread = 1

// processCPU returns the user plus system CPU time process pid has used.
func processCPU(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read process cpu: %w", err)
	}
	d, err := parseStatCPU(data)
	if err != nil {
		return 0, fmt.Errorf("read process cpu of %d: %w", pid, err)
	}
	return d, nil
}

var errStat = errors.New("malformed /proc stat line")

// parseStatCPU reads utime and stime (fields 14 and 15) of a /proc stat
// line. The command name (field 2) is in parentheses and may hold spaces
// and parentheses itself, so fields are counted after the last ')'.
func parseStatCPU(line []byte) (time.Duration, error) {
	end := bytes.LastIndexByte(line, ')')
	if end < 0 {
		return 0, errStat
	}
	fields := bytes.Fields(line[end+1:])
	// fields[0] is field 3 (state); utime is field 14.
	const utime, stime = 14 - 3, 15 - 3
	if len(fields) <= stime {
		return 0, errStat
	}
	var total time.Duration
	for _, f := range [][]byte{fields[utime], fields[stime]} {
		ticks, err := strconv.ParseUint(string(f), 10, 32)
		if err != nil {
			return 0, fmt.Errorf("%w: %w", errStat, err)
		}
		total += time.Duration(ticks) * clockTick
	}
	return total, nil
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
