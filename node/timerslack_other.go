//go:build !linux

package node

import (
	"errors"
	"time"
)

// applyTimerSlack is Linux-only; elsewhere the process keeps the system's
// timer behaviour.
func applyTimerSlack(slack time.Duration) error {
	if slack <= 0 {
		return nil
	}
	return errors.New("timer slack: only supported on Linux")
}

// currentTimerSlack is unknown outside Linux.
func currentTimerSlack() (time.Duration, error) {
	return 0, errors.New("timer slack: only supported on Linux")
}
