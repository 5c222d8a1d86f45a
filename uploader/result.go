package uploader

import (
	"time"
)

// handle applies one attempt's outcome to its entry.
func (l *loop) handle(r outcome) {
	key := r.job.Key()
	e := l.entries[key]
	e.busy = false
	l.busy--
	m := l.u.metrics
	if r.bytes > 0 {
		m.bytes.Add(float64(r.bytes))
	}
	if !r.verified.IsZero() {
		m.latency.Observe(r.verified.Sub(e.since).Seconds())
	}
	switch r.class {
	case "":
		delete(l.entries, key)
		l.markKept(r)
		m.uploaded.WithLabelValues(r.job.Kind.String()).Inc()
		l.u.log.Info("uploaded", "key", key, "kind", r.job.Kind.String(), "bytes", r.bytes, "attempts", e.attempts)
		l.reportStrays(r)
		l.scanDir(r.job.RecordingID) // a split end or the report may be ready now
	case classAborted:
		e.attempts--
	case classVanished:
		delete(l.entries, key)
		m.failures.WithLabelValues(r.class).Inc()
		l.u.log.Warn("file vanished or shrank before it was uploaded; job dropped", "key", key, "err", r.err)
	case classPermanent:
		m.failures.WithLabelValues(r.class).Inc()
		l.quarantine(e, r)
	default:
		m.failures.WithLabelValues(r.class).Inc()
		l.retryLater(e, r)
	}
}

// quarantine holds a job back until the config changes or the slow retry.
func (l *loop) quarantine(e *entry, r outcome) {
	key := r.job.Key()
	l.u.log.Error("QUARANTINED: upload cannot succeed with this configuration; files kept",
		"key", key, "reason", r.reason, "retry_in", l.u.cfg.QuarantineRetryInterval)
	if l.w == nil {
		delete(l.entries, key)
		l.left++
		return
	}
	e.quarantined = &Quarantined{Key: key, Reason: r.reason, Since: time.Now()}
	e.next = time.Now().Add(l.u.cfg.QuarantineRetryInterval)
}

// retryLater schedules a transient failure's next attempt.
func (l *loop) retryLater(e *entry, r outcome) {
	key := r.job.Key()
	if l.w == nil && e.attempts >= drainAttempts {
		delete(l.entries, key)
		l.left++
		l.u.log.Error("giving up for this run; files kept", "key", key, "attempts", e.attempts, "err", r.err)
		return
	}
	wait := l.backoff(e.attempts)
	e.next = time.Now().Add(wait)
	l.u.log.Warn("upload failed; will retry", "key", key, "class", r.class, "attempt", e.attempts,
		"retry_in", wait.Round(time.Millisecond), "err", r.err)
}

// markKept records a kept job's files as done in the keep-mode cache.
func (l *loop) markKept(r outcome) {
	done := l.kept[r.job.RecordingID]
	if l.u.cfg.AfterUpload != ActionKeep || done == nil {
		return
	}
	done[r.job.JSONName] = true
	for _, f := range r.files {
		done[f] = true
	}
}

// reportStrays logs and counts the stray media files of an uploaded report:
// they stay where they are, for an operator to look at.
func (l *loop) reportStrays(r outcome) {
	if len(r.strays) == 0 {
		return
	}
	l.u.metrics.strays.Add(float64(len(r.strays)))
	l.u.log.Warn("stray media files left in place: no JSON came for them and the report does not reference them",
		"recording_id", r.job.RecordingID, "files", r.strays)
}
