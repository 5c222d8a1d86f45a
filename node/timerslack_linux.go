package node

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"time"
)

// timerSlackEnv marks a process that already re-executed itself with its
// timer slack set, so that it does not do it again.
const timerSlackEnv = "KIROKU_TIMER_SLACK_NS"

// prSetTimerSlack and prGetTimerSlack are prctl(2) options.
const (
	prSetTimerSlack = 29
	prGetTimerSlack = 30
)

// applyTimerSlack gives every thread of the process the timer slack
// slack, the time the kernel may delay a timed sleep to merge wake-ups.
//
// Why: after every moment the process was idle, the Go runtime's monitor
// thread (sysmon) polls every 20 µs for at least a millisecond. An SFU
// whose packets arrive a millisecond or two apart is never out of that
// mode, and on virtual machines each of those short sleeps costs a
// context switch: about a tenth of the process's CPU time at a few
// thousand packets a second. With a slack of a millisecond those sleeps
// last a millisecond instead. Nothing on the forwarding path sleeps on a
// timer (packets wake the process), so forwarding delay is unchanged;
// timers (RTCP intervals, keep-alives, webhooks) may fire up to slack late.
//
// A thread's slack is inherited by the threads it creates and kept across
// exec, but only a thread itself may set its own without privileges, and
// sysmon exists before main runs. So the process sets the slack on the
// thread running this function and re-executes itself from it; the new
// image's threads all inherit it. It returns only when the slack is
// already in effect (nil) or cannot be set (the reason; the process runs
// on with the kernel's default).
func applyTimerSlack(slack time.Duration) error {
	if slack <= 0 {
		return nil
	}
	want := strconv.FormatInt(slack.Nanoseconds(), 10)
	if os.Getenv(timerSlackEnv) == want {
		return nil
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("timer slack: find own executable: %w", err)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if _, _, errno := syscall.RawSyscall6(syscall.SYS_PRCTL, prSetTimerSlack, uintptr(slack.Nanoseconds()), 0, 0, 0, 0); errno != 0 {
		return fmt.Errorf("timer slack: prctl: %w", errno)
	}
	env := append(os.Environ(), timerSlackEnv+"="+want)
	err = syscall.Exec(exe, os.Args, env)
	return fmt.Errorf("timer slack: re-execute %s: %w", exe, err)
}

// currentTimerSlack is the calling thread's timer slack.
func currentTimerSlack() (time.Duration, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	ns, _, errno := syscall.RawSyscall6(syscall.SYS_PRCTL, prGetTimerSlack, 0, 0, 0, 0, 0)
	if errno != 0 {
		return 0, fmt.Errorf("timer slack: prctl: %w", errno)
	}
	return time.Duration(ns), nil
}
