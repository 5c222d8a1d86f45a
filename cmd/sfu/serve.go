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
// connection with a reason and returns 0.
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
	logger, closeLog, err := node.NewLogger(st, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "sfu:", err)
		return 1
	}
	defer closeLog()
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
	if err := node.Serve(ctx, st, logger, stdout); err != nil {
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
