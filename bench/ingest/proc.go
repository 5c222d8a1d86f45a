package ingestbench

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"
)

// clockTick is the unit of utime and stime in /proc/PID/stat (USER_HZ).
const clockTick = 10 * time.Millisecond

var errStat = errors.New("malformed /proc stat line")

// processCPU returns the user plus system CPU time process pid has used,
// its exited threads included.
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

// parseStatCPU reads utime and stime (fields 14 and 15) of a /proc stat
// line; fields are counted after the command name's last ')'.
func parseStatCPU(line []byte) (time.Duration, error) {
	end := bytes.LastIndexByte(line, ')')
	if end < 0 {
		return 0, errStat
	}
	fields := bytes.Fields(line[end+1:])
	const utime, stime = 14 - 3, 15 - 3 // fields[0] is field 3
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
