// Command uploader uploads finished recordings from archive_dir to
// S3-compatible object storage (see package uploader).
//
//	uploader -config uploader.conf          watch and upload until SIGTERM
//	uploader -config uploader.conf -once    upload what is ready, then exit
//
// SIGHUP reloads the storage and webhook settings, retries quarantined
// files at once and reopens the log file (log_dir/log_name), for
// logrotate's create mode. SIGTERM and SIGINT stop: uploads in flight get
// shutdown_timeout to finish, then they are aborted.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/kiroku-sfu/kiroku/logfile"
	"github.com/kiroku-sfu/kiroku/uploader"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "uploader:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("uploader", flag.ContinueOnError)
	path := fs.String("config", "uploader.conf", "configuration file")
	once := fs.Bool("once", false, "upload what is ready, then exit (for cron-style use)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, lc, err := loadConfig(*path)
	if err != nil {
		return err
	}
	log, logFile, err := openLog(lc, cfg.Debug, os.Stdout)
	if err != nil {
		return err
	}
	if logFile != nil {
		defer logFile.Close()
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	up, err := uploader.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer up.Close()
	if *once {
		return up.Drain(ctx)
	}
	stopMetrics, err := serveMetrics(cfg.MetricsListenAddress, up.Handler(), log)
	if err != nil {
		return err
	}
	defer stopMetrics()
	stopHUP := reloadOnHUP(ctx, *path, up, logFile, log)
	defer stopHUP()
	log.Info("uploader started", "archive_dir", cfg.ArchiveDir, "bucket", cfg.Store.Bucket, "workers", cfg.Workers)
	return up.Run(ctx)
}

// reloadOnHUP reopens the log file (when there is one) and reloads the
// configuration on each SIGHUP until the returned stop is called; stop
// waits for the goroutine. The log keys themselves are not reloaded.
func reloadOnHUP(ctx context.Context, path string, up *uploader.Uploader, logFile *logfile.File, log *slog.Logger) (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	done := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		for {
			select {
			case <-done:
				return
			case <-hup:
				if logFile != nil {
					if err := logFile.Reopen(); err != nil {
						log.Error("log file not reopened; writing on into the previous one", "err", err)
					}
				}
				cfg, _, err := loadConfig(path)
				if err == nil {
					err = up.Reload(ctx, cfg)
				}
				if err != nil {
					log.Error("reload failed; keeping the running configuration", "err", err)
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

// serveMetrics serves h on addr (nothing when addr is empty) until the
// returned stop is called.
func serveMetrics(addr string, h http.Handler, log *slog.Logger) (stop func(), err error) {
	if addr == "" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics listener: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server stopped", "err", err)
		}
	}()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-exited
	}, nil
}
