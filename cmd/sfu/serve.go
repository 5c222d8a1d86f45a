package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/kiroku-sfu/kiroku/node"
)

// runServe runs the SFU until SIGTERM or SIGINT, then closes every
// connection with a reason and returns 0. SIGHUP reopens the log files.
func runServe(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sfu", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "sora.conf-style configuration file (defaults when absent)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile (pprof) to this file until shutdown")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	st, err := node.LoadSettings(*path)
	if err != nil {
		fmt.Fprintln(stderr, "sfu:", err)
		return 2
	}
	logs, err := node.OpenLogs(st, stdout, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "sfu:", err)
		return 1
	}
	defer logs.Close()
	logger := logs.Logger
	if err := st.ApplyTimerSlack(); err != nil {
		logger.Warn("running with the default timer slack", "err", err)
	}
	if *cpuProfile != "" {
		stopProfile, err := startCPUProfile(*cpuProfile)
		if err != nil {
			fmt.Fprintln(stderr, "sfu:", err)
			return 1
		}
		defer stopProfile()
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	stopHUP := reopenOnHUP(logs)
	defer stopHUP()
	if err := node.ServeLogs(ctx, st, logs, stdout); err != nil {
		logger.Error("sfu stopped", "err", err)
		return 1
	}
	return 0
}

// startCPUProfile profiles the process into path (pprof format, for `go
// tool pprof`) until the returned function is called.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		return nil, errors.Join(fmt.Errorf("cpu profile: %w", err), f.Close())
	}
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close()
	}, nil
}

// reopenOnHUP reopens the log files on each SIGHUP (logrotate's create
// mode) until the returned stop is called; stop waits for the goroutine.
func reopenOnHUP(logs *node.Logs) (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	done, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		for {
			select {
			case <-done:
				return
			case <-hup:
				if err := logs.Reopen(); err != nil {
					logs.Logger.Error("log files not reopened; writing on into the previous ones", "err", err)
				} else {
					logs.Logger.Info("log files reopened")
				}
			}
		}
	}()
	return func() {
		signal.Stop(hup)
		close(done)
		<-exited
	}
}
