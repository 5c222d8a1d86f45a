package uploader

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/kiroku-sfu/kiroku/uploader/scan"
)

// drainAttempts bounds the tries of a failing job in drain mode.
const drainAttempts = 5

// entry is a known job and its retry state.
type entry struct {
	job         scan.Job
	since       time.Time // when its JSON appeared, or the uploader started
	attempts    int
	next        time.Time // earliest next attempt
	busy        bool
	quarantined *Quarantined
}

// loop is the scheduler. Only the goroutine in serve touches its fields.
type loop struct {
	u       *Uploader
	w       *watcher // nil: drain mode
	entries map[string]*entry
	work    chan scan.Job
	results chan outcome
	busy    int
	left    int                        // drain mode: jobs given up on
	kept    map[string]map[string]bool // keep mode: done file names by recording
}

func newLoop(u *Uploader, w *watcher) *loop {
	return &loop{
		u: u, w: w,
		entries: make(map[string]*entry),
		kept:    make(map[string]map[string]bool),
		work:    make(chan scan.Job, u.cfg.Workers),
		results: make(chan outcome, u.cfg.Workers),
	}
}

// serve schedules jobs until ctx ends (or, in drain mode, no job is left).
func (l *loop) serve(ctx context.Context, abort context.CancelFunc) error {
	cfg := l.u.cfg
	l.scanAll()
	rescan := time.NewTicker(cfg.RescanInterval)
	defer rescan.Stop()
	quarantine := time.NewTicker(cfg.QuarantineRetryInterval)
	defer quarantine.Stop()
	wake := time.NewTimer(time.Hour)
	defer wake.Stop()
	for {
		l.dispatch(time.Now())
		l.publish()
		if l.w == nil && len(l.entries) == 0 {
			return l.drained()
		}
		wake.Reset(l.untilNext(time.Now()))
		select {
		case <-ctx.Done():
			return l.shutdown(abort)
		case r := <-l.results:
			l.handle(r)
		case ev := <-l.w.events():
			l.onEvent(ev)
		case err := <-l.w.errors():
			l.u.log.Warn("file events lost; rescanning", "err", err)
			l.scanAll()
		case <-rescan.C:
			l.scanAll()
		case <-quarantine.C:
			l.release()
		case <-l.u.retry:
			l.release()
			l.scanAll()
		case <-wake.C:
		}
	}
}

// dispatch hands ready jobs, oldest first, to free workers.
func (l *loop) dispatch(now time.Time) {
	if l.busy >= l.u.cfg.Workers {
		return
	}
	var ready []*entry
	for _, e := range l.entries {
		if !e.busy && e.quarantined == nil && !e.next.After(now) {
			ready = append(ready, e)
		}
	}
	sort.Slice(ready, func(i, j int) bool {
		if !ready[i].since.Equal(ready[j].since) {
			return ready[i].since.Before(ready[j].since)
		}
		return ready[i].job.Key() < ready[j].job.Key()
	})
	for _, e := range ready {
		if l.busy >= l.u.cfg.Workers {
			return
		}
		e.busy = true
		e.attempts++
		l.busy++
		l.work <- e.job
	}
}

// untilNext is the wait before the earliest retry falls due.
func (l *loop) untilNext(now time.Time) time.Duration {
	wait := time.Hour
	for _, e := range l.entries {
		if !e.busy && e.quarantined == nil {
			wait = min(wait, e.next.Sub(now))
		}
	}
	return max(wait, time.Millisecond)
}

// publish updates the gauges and the quarantine list.
func (l *loop) publish() {
	var q []Quarantined
	for _, e := range l.entries {
		if e.quarantined != nil {
			q = append(q, *e.quarantined)
		}
	}
	m := l.u.metrics
	m.pending.Set(float64(len(l.entries) - len(q)))
	m.quarantined.Set(float64(len(q)))
	m.inFlight.Set(float64(l.busy))
	l.u.setQuarantined(q)
}

// release makes quarantined jobs due now.
func (l *loop) release() {
	now := time.Now()
	for _, e := range l.entries {
		if e.quarantined != nil {
			e.quarantined, e.attempts, e.next = nil, 0, now
		}
	}
}

// backoff is the wait after the n-th failed attempt: doubling from
// retry_min_interval up to retry_max_interval, with ±50 % jitter.
func (l *loop) backoff(n int) time.Duration {
	cfg := l.u.cfg
	d := cfg.RetryMinInterval
	for i := 1; i < n && d < cfg.RetryMaxInterval; i++ {
		d *= 2
	}
	d = min(d, cfg.RetryMaxInterval)
	return d/2 + time.Duration(rand.Int64N(int64(d)))
}

// drained ends drain mode.
func (l *loop) drained() error {
	if l.left > 0 {
		return fmt.Errorf("uploader: %d jobs left for a later run", l.left)
	}
	return nil
}

// shutdown waits for the uploads in flight, aborting them after
// shutdown_timeout. A drain stopped early reports the jobs it leaves.
func (l *loop) shutdown(abort context.CancelFunc) error {
	if l.busy > 0 {
		l.u.log.Info("stopping: waiting for uploads in flight", "count", l.busy, "timeout", l.u.cfg.ShutdownTimeout)
	}
	deadline := time.After(l.u.cfg.ShutdownTimeout)
	for l.busy > 0 {
		select {
		case r := <-l.results:
			l.handle(r)
		case <-deadline:
			l.u.log.Warn("stopping: aborting uploads in flight", "count", l.busy)
			abort()
			deadline = nil
		}
	}
	l.publish()
	if l.w == nil && len(l.entries) > 0 {
		return fmt.Errorf("uploader: stopped with %d jobs left for a later run", len(l.entries))
	}
	return nil
}

// onEvent rescans the recording a file event concerns.
func (l *loop) onEvent(ev fsnotify.Event) {
	if ev.Op == fsnotify.Chmod {
		return
	}
	rid, isDir, ok := l.w.recording(ev)
	if !ok || scan.Ignored(rid) {
		return
	}
	if isDir && ev.Op.Has(fsnotify.Create) {
		if err := l.w.watchDir(ev.Name); err != nil {
			l.u.log.Debug("not watching", "dir", ev.Name, "err", err)
			return
		}
	}
	l.scanDir(rid)
}

// scanAll lists archive_dir, watches and scans every recording directory.
func (l *loop) scanAll() {
	entries, err := os.ReadDir(l.u.cfg.ArchiveDir)
	if err != nil {
		l.u.log.Error("cannot list archive directory", "dir", l.u.cfg.ArchiveDir, "err", err)
		return
	}
	for _, e := range entries {
		if !e.IsDir() || scan.Ignored(e.Name()) {
			continue
		}
		if l.w != nil {
			if err := l.w.watchDir(filepath.Join(l.u.cfg.ArchiveDir, e.Name())); err != nil {
				l.u.log.Warn("not watching; relying on rescans", "err", err)
			}
		}
		l.scanDir(e.Name())
	}
}

// scanDir adds the recording's ready jobs that are not known yet.
func (l *loop) scanDir(rid string) {
	dir := filepath.Join(l.u.cfg.ArchiveDir, rid)
	f, err := os.Open(dir)
	if err != nil {
		delete(l.kept, rid) // removed meanwhile
		return
	}
	names, err := f.Readdirnames(-1)
	f.Close()
	if err != nil {
		l.u.log.Warn("cannot list recording directory", "dir", dir, "err", err)
		return
	}
	for _, job := range l.plan(rid, names) {
		l.add(job)
	}
}

// plan lists the jobs of a recording's files: those ready to upload and,
// unless in keep mode, the announced ones whose local files still need the
// after-upload action (a crash came between the two).
func (l *loop) plan(rid string, names []string) []scan.Job {
	refs := func(report string) scan.Refs { return l.u.reportRefs(rid, report) }
	if l.u.cfg.AfterUpload == ActionKeep {
		done := l.keptFiles(rid)
		return scan.Plan(rid, names, func(n string) bool { return done[n] }, refs)
	}
	jobs := scan.Plan(rid, names, func(string) bool { return false }, refs)
	announced := l.u.journal.notified(rid)
	for _, name := range names {
		if _, ok := announced[name]; ok {
			kind, cid, _ := scan.Classify(name)
			jobs = append(jobs, scan.Job{Kind: kind, RecordingID: rid, JSONName: name, ConnectionID: cid})
		}
	}
	return jobs
}

// keptFiles tells which files of rid are done in keep mode, read from the
// journal once and then kept up to date by handle.
func (l *loop) keptFiles(rid string) map[string]bool {
	if done, ok := l.kept[rid]; ok {
		return done
	}
	done := map[string]bool{}
	for name, rec := range l.u.journal.notified(rid) {
		done[name] = true
		for _, f := range rec.Files {
			done[f] = true
		}
	}
	l.kept[rid] = done
	return done
}

// add registers a job unless it is known already.
func (l *loop) add(job scan.Job) {
	key := job.Key()
	if _, known := l.entries[key]; known {
		return
	}
	since := l.u.started
	if st, err := os.Stat(filepath.Join(l.u.cfg.ArchiveDir, job.RecordingID, job.JSONName)); err == nil && st.ModTime().After(since) {
		since = st.ModTime()
	}
	l.entries[key] = &entry{job: job, since: since, next: time.Now()}
	l.u.log.Debug("job ready", "key", key, "kind", job.Kind.String())
}
