// Package uploader moves finished recordings from archive_dir to
// S3-compatible object storage, reacting to file events within
// milliseconds.
//
// It watches archive_dir and every <recording_id>/ directory in it
// (fsnotify), lists everything at start and again every rescan_interval, and
// uploads each job (a JSON and, for archives and splits, its same-stem media
// file) once the recorder's rules say it is complete. Every object is
// verified with a HEAD (size and SHA-256) before anything local is deleted,
// moved or marked done; then the webhook is sent.
//
// Nothing is lost on failure: transient errors are retried with exponential
// backoff and jitter; permanent ones (wrong bucket, region or credentials,
// unusable metadata) quarantine the job, which keeps its files, is reported
// by Quarantined, logged at error level and counted, and is retried every
// quarantine_retry_interval or at once on Retry or Reload. A journal in
// archive_dir/.uploader/ records which jobs were verified and announced, so a
// restart re-uploads only what was not verified (stale multipart uploads of
// its keys are aborted first) and sends no webhook twice, except when the
// process dies between a webhook's 200 and the journal write.
//
// Concurrency: Run (or Drain) owns one scheduling goroutine, its caller's,
// and upload_workers worker goroutines, all stopped before it returns.
// Reload, Retry, Quarantined and Handler may be called from any goroutine.
package uploader

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kiroku-sfu/kiroku/uploader/hook"
	"github.com/kiroku-sfu/kiroku/uploader/s3store"
)

// Uploader uploads the recordings of one archive_dir.
type Uploader struct {
	cfg     Config
	log     *slog.Logger
	journal journal
	metrics *metrics
	started time.Time

	mu      sync.RWMutex
	clients clients

	retry chan struct{} // one pending request to retry quarantined jobs now

	qmu        sync.Mutex
	quarantine []Quarantined
}

// clients are the parts Reload replaces.
type clients struct {
	store *s3store.Store
	hook  *hook.Sender
}

// Quarantined is a job held back by a permanent error.
type Quarantined struct {
	Key    string    `json:"key"` // <recording_id>/<json name>
	Reason string    `json:"reason"`
	Since  time.Time `json:"since"`
}

// New validates cfg and builds the storage and webhook clients. It makes
// no request and starts nothing.
func New(ctx context.Context, cfg Config, log *slog.Logger) (*Uploader, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("uploader: %w", err)
	}
	c, err := newClients(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &Uploader{
		cfg:     cfg,
		log:     log,
		journal: journal{dir: filepath.Join(cfg.ArchiveDir, stateDirName)},
		metrics: newMetrics(),
		started: time.Now(),
		clients: c,
		retry:   make(chan struct{}, 1),
	}, nil
}

func newClients(ctx context.Context, cfg Config) (clients, error) {
	store, err := s3store.New(ctx, cfg.Store)
	if err != nil {
		return clients{}, fmt.Errorf("uploader: %w", err)
	}
	sender, err := hook.New(cfg.Hook, time.Now)
	if err != nil {
		return clients{}, fmt.Errorf("uploader: %w", err)
	}
	return clients{store: store, hook: sender}, nil
}

func (u *Uploader) current() clients {
	u.mu.RLock()
	defer u.mu.RUnlock()
	return u.clients
}

// Reload applies the storage and webhook settings of cfg (other settings
// need a restart and are ignored with a warning) and retries quarantined
// jobs at once.
func (u *Uploader) Reload(ctx context.Context, cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("uploader: reload: %w", err)
	}
	c, err := newClients(ctx, cfg)
	if err != nil {
		return fmt.Errorf("uploader: reload: %w", err)
	}
	restart := cfg
	restart.Store, restart.Hook = u.cfg.Store, u.cfg.Hook
	if restart != u.cfg {
		u.log.Warn("reload applies object_storage_*, upload_part_*, upload_file_rate_limit_mbps and webhook_* only; restart for the other changes")
	}
	u.mu.Lock()
	old := u.clients
	u.clients = c
	u.mu.Unlock()
	old.hook.Close()
	u.log.Info("configuration reloaded", "bucket", cfg.Store.Bucket, "endpoint", cfg.Store.Endpoint)
	u.Retry()
	return nil
}

// Retry asks the running loop to retry quarantined jobs now and rescan.
func (u *Uploader) Retry() {
	select {
	case u.retry <- struct{}{}:
	default:
	}
}

// Quarantined lists the jobs held back by a permanent error.
func (u *Uploader) Quarantined() []Quarantined {
	u.qmu.Lock()
	defer u.qmu.Unlock()
	return append([]Quarantined(nil), u.quarantine...)
}

func (u *Uploader) setQuarantined(list []Quarantined) {
	sort.Slice(list, func(i, j int) bool { return list[i].Key < list[j].Key })
	u.qmu.Lock()
	u.quarantine = list
	u.qmu.Unlock()
}

// Handler serves /metrics (Prometheus) and /quarantine (JSON list).
func (u *Uploader) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(u.metrics.registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("/quarantine", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(u.Quarantined())
	})
	return mux
}

// Close releases idle connections. It is idempotent.
func (u *Uploader) Close() error {
	u.current().hook.Close()
	return nil
}

// Run uploads until ctx ends: watches, rescans, retries. On ctx's end it
// starts nothing new, lets uploads in flight finish for shutdown_timeout,
// then aborts them (removing their multipart uploads) and returns.
func (u *Uploader) Run(ctx context.Context) error {
	if err := u.current().hook.HealthCheck(ctx); err != nil {
		return fmt.Errorf("uploader: %w", err)
	}
	w, err := newWatcher(u.cfg.ArchiveDir)
	if err != nil {
		return fmt.Errorf("uploader: %w", err)
	}
	defer w.close()
	return u.run(ctx, w)
}

// Drain uploads everything ready in archive_dir and returns: nil when no
// job is left, else an error counting the jobs left for a later run
// (quarantined ones, and those that failed drainAttempts times).
func (u *Uploader) Drain(ctx context.Context) error {
	if err := u.current().hook.HealthCheck(ctx); err != nil {
		return fmt.Errorf("uploader: %w", err)
	}
	return u.run(ctx, nil)
}

// run owns the workers and the scheduling loop; w is nil in drain mode.
func (u *Uploader) run(ctx context.Context, w *watcher) error {
	uploadCtx, abort := context.WithCancel(context.WithoutCancel(ctx))
	defer abort()
	l := newLoop(u, w)
	var wg sync.WaitGroup
	for range u.cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for job := range l.work {
				l.results <- u.process(uploadCtx, job)
			}
		}()
	}
	err := l.serve(ctx, abort)
	close(l.work)
	wg.Wait()
	return err
}
