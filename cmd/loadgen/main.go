// Command loadgen puts load on a Sora-protocol SFU: publishers send
// stamped synthetic VP8 at a fixed packet rate, subscribers receive every
// publisher, and each second it prints delivery and forwarding delay.
//
//	loadgen -url ws://127.0.0.1:5000/signaling -channel bench \
//	        -publishers 2 -subscribers 8 -duration 30s -rate 200
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/kiroku-sfu/kiroku/loadgen"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run parses flags, runs the load and returns the exit code: 0 when no
// packet was lost and at least 99 % of the offered packets (sent times
// subscribers) arrived in the window, 1 otherwise or when the run failed,
// 2 on bad flags.
func run(args []string, stdout, stderr io.Writer) int {
	cfg, duration, ok := parseFlags(args, stderr)
	if !ok {
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	w, err := runLoad(ctx, cfg, duration, stdout)
	if err != nil {
		fmt.Fprintln(stderr, "loadgen:", err)
		return 1
	}
	offered := w.Sent * uint64(cfg.Subscribers)
	fmt.Fprintf(stdout, "total: %v; %d of %d offered packets arrived\n", w, w.Received, offered)
	// Loss shows in sequence numbers; a stalled flow only in the count.
	if w.Delivery < 1 || float64(w.Received) < 0.99*float64(offered) {
		return 1
	}
	return 0
}

func parseFlags(args []string, stderr io.Writer) (loadgen.Config, time.Duration, bool) {
	cfg := loadgen.DefaultConfig()
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.URL, "url", "ws://127.0.0.1:5000/signaling", "signaling URL")
	fs.StringVar(&cfg.Channel, "channel", cfg.Channel, "channel_id")
	fs.IntVar(&cfg.Publishers, "publishers", cfg.Publishers, "number of publishers")
	fs.IntVar(&cfg.Subscribers, "subscribers", cfg.Subscribers, "number of subscribers")
	fs.IntVar(&cfg.Rate, "rate", cfg.Rate, "packets per second per publisher")
	fs.IntVar(&cfg.PayloadBytes, "payload", cfg.PayloadBytes, "RTP payload bytes")
	fs.StringVar(&cfg.LocalAddress, "local", "", "local IPv4 address for media (empty: every interface)")
	duration := fs.Duration("duration", 10*time.Second, "how long to send after everyone is connected")
	verbose := fs.Bool("v", false, "log signaling and media events")
	if err := fs.Parse(args); err != nil {
		return cfg, 0, false
	}
	if fs.NArg() > 0 || *duration <= 0 {
		fmt.Fprintln(stderr, "loadgen: unexpected arguments or non-positive -duration")
		return cfg, 0, false
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelDebug
	}
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	if err := cfg.Validate(); err != nil {
		fmt.Fprintln(stderr, "loadgen:", err)
		return cfg, 0, false
	}
	return cfg, *duration, true
}

// runLoad connects, waits for every flow, then reports each second and
// returns the whole measured window.
func runLoad(ctx context.Context, cfg loadgen.Config, duration time.Duration, out io.Writer) (loadgen.Window, error) {
	cctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
	defer cancel()
	l, err := loadgen.Start(cctx, cfg)
	if err != nil {
		return loadgen.Window{}, err
	}
	defer func() { _ = l.Close() }()
	if err := l.WaitFlowing(cctx); err != nil {
		return loadgen.Window{}, err
	}
	first := l.Snapshot()
	prev := first
	t := time.NewTicker(time.Second)
	defer t.Stop()
	end := time.After(duration)
	for {
		select {
		case <-ctx.Done():
			return l.Snapshot().Window(first), nil
		case <-end:
			w := l.Snapshot().Window(first)
			return w, l.Close()
		case <-t.C:
			s := l.Snapshot()
			fmt.Fprintln(out, s.Window(prev))
			prev = s
		}
	}
}
