package uploader

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/kiroku-sfu/kiroku/uploader/hook"
	"github.com/kiroku-sfu/kiroku/uploader/s3store"
	"github.com/kiroku-sfu/kiroku/uploader/scan"
)

// Failure classes of a job attempt, as metrics label them.
const (
	classTransient = "transient" // retried with backoff
	classPermanent = "permanent" // quarantined until the config changes
	classVanished  = "vanished"  // a file disappeared: reported, job dropped
	classWebhook   = "webhook"   // objects verified, webhook failed: retried
	classLocal     = "local"     // local file system trouble: retried
	classAborted   = "aborted"   // shutdown interrupted the attempt
)

var (
	errSettling = errors.New("metadata file still changing")
	errVanished = errors.New("file vanished")
	errChanged  = errors.New("file changed size during upload")
)

// outcome is what a worker reports about one attempt.
type outcome struct {
	job      scan.Job
	err      error
	class    string // "" on success
	reason   string // for permanent failures
	bytes    int64
	verified time.Time // zero when nothing was uploaded in this attempt
	files    []string  // the job's files, once announced
	strays   []string  // a report's stray media files, "<recording_id>/<name>"
}

// process runs one attempt of job: upload and verify every file unless the
// journal says it is done, announce it, then act on the local files.
func (u *Uploader) process(ctx context.Context, job scan.Job) outcome {
	out := outcome{job: job}
	rec, err := u.journal.load(job)
	if err != nil {
		return out.failed(classLocal, err)
	}
	if rec.Stage == stageNotified {
		return out.failed(classLocal, u.finish(job, rec))
	}
	meta, media, err := u.readMeta(job)
	if err != nil {
		return out.failed(classify(err))
	}
	if job.Kind == scan.Report {
		if out.strays, err = u.strays(job, meta); err != nil {
			return out.failed(classLocal, err)
		}
	}
	c := u.current()
	if rec.Stage == "" {
		files := []string{job.JSONName}
		if media != "" {
			files = []string{media, job.JSONName}
		}
		for _, name := range files {
			n, err := u.putFile(ctx, c.store, job.RecordingID, name)
			if err != nil {
				return out.failed(classify(err))
			}
			out.bytes += n
		}
		out.verified = time.Now()
		rec = record{Stage: stageUploaded, Files: files}
		if err := u.journal.save(job, rec); err != nil {
			return out.failed(classLocal, err)
		}
	}
	ev := event(c.store, job, meta, media)
	ev.StrayFiles = out.strays
	if err := c.hook.Send(ctx, ev); err != nil {
		return out.failed(classWebhook, err)
	}
	rec.Stage = stageNotified
	if err := u.journal.save(job, rec); err != nil {
		return out.failed(classLocal, err)
	}
	out.files = rec.Files
	return out.failed(classLocal, u.finish(job, rec))
}

// failed records err under class; a nil err leaves out successful.
func (o outcome) failed(class string, err error) outcome {
	if err != nil {
		o.class, o.err = class, err
		if class == classPermanent {
			o.reason = err.Error()
		}
	}
	return o
}

// classify sorts an attempt's error into a failure class.
func classify(err error) (string, error) {
	switch {
	case errors.Is(err, errVanished):
		return classVanished, err
	case errors.Is(err, errSettling):
		return classTransient, err
	case errors.Is(err, context.Canceled):
		return classAborted, err
	case errors.Is(err, scan.ErrBadMeta):
		return classPermanent, err
	}
	if code, ok := s3store.Permanent(err); ok {
		return classPermanent, fmt.Errorf("%s: %w", code, err)
	}
	return classTransient, err
}

// readMeta parses the job's JSON and picks its media file.
func (u *Uploader) readMeta(job scan.Job) (scan.Meta, string, error) {
	f, err := os.Open(filepath.Join(u.cfg.ArchiveDir, job.RecordingID, job.JSONName))
	if errors.Is(err, fs.ErrNotExist) {
		return scan.Meta{}, "", fmt.Errorf("%s: %w", job.Key(), errVanished)
	}
	if err != nil {
		return scan.Meta{}, "", fmt.Errorf("open %s: %w", job.Key(), err)
	}
	defer f.Close()
	meta, err := scan.ReadMeta(f)
	if err == nil {
		err = meta.Check(job)
	}
	if err != nil && settling(f) {
		// A writer that does not rename into place may still be filling it.
		return scan.Meta{}, "", fmt.Errorf("%s: %w: %w", job.Key(), errSettling, err)
	}
	if err != nil {
		return scan.Meta{}, "", fmt.Errorf("%s: %w", job.Key(), err)
	}
	if job.Kind != scan.Archive && job.Kind != scan.Split {
		return meta, "", nil
	}
	media, err := meta.MediaName(job)
	if err != nil {
		return scan.Meta{}, "", fmt.Errorf("%s: %w", job.Key(), err)
	}
	return meta, media, nil
}

// settleTime is how long a metadata file that does not parse is taken for
// one still being written, and retried, before it is quarantined.
const settleTime = 10 * time.Second

// settling reports whether f was modified within settleTime.
func settling(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && time.Since(st.ModTime()) < settleTime
}

// putFile uploads one file and proves the object: it hashes the file,
// removes stale multipart uploads of its key, puts it with checksums,
// compares the HEAD with the hash, and checks the file did not change.
func (u *Uploader) putFile(ctx context.Context, store *s3store.Store, rid, name string) (int64, error) {
	path := filepath.Join(u.cfg.ArchiveDir, rid, name)
	key := store.Key(rid, name)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("%s/%s: %w", rid, name, errVanished)
	}
	if err != nil {
		return 0, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("stat %s: %w", path, err)
	}
	sum, err := store.Digest(f, st.Size())
	if err != nil {
		return 0, errors.Join(fmt.Errorf("hash %s: %w", path, err), u.changed(path, st.Size()))
	}
	if store.Multipart(sum.Size) {
		u.abortStale(ctx, store, key)
	}
	meter := store.NewMeter()
	stop := u.progress(key, sum.Size, meter, store.Multipart(sum.Size))
	err = store.Put(ctx, key, s3store.ContentType(name), f, sum, meter)
	stop()
	if err != nil && ctx.Err() != nil && store.Multipart(sum.Size) {
		u.abortAfterCancel(ctx, store, key)
	}
	if err == nil {
		err = store.Verify(ctx, key, sum)
	}
	if err != nil {
		return 0, errors.Join(err, u.changed(path, sum.Size))
	}
	return sum.Size, u.changed(path, sum.Size)
}

// abortStale removes multipart uploads of key a crashed run left behind.
// Best effort: without the list permission a stale upload only costs
// storage until the bucket's lifecycle rule removes it.
func (u *Uploader) abortStale(ctx context.Context, store *s3store.Store, key string) {
	if n, err := store.AbortStale(ctx, key); err != nil {
		u.log.Warn("cannot clean up stale multipart uploads", "key", key, "err", err)
	} else if n > 0 {
		u.log.Info("aborted stale multipart uploads", "key", key, "count", n)
	}
}

// abortAfterCancel removes the multipart upload of key that a cancelled
// Put could not abort itself (its abort request shares the cancelled context).
func (u *Uploader) abortAfterCancel(ctx context.Context, store *s3store.Store, key string) {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, err := store.AbortStale(actx, key); err != nil {
		u.log.Warn("could not abort the interrupted multipart upload; the next run will", "key", key, "err", err)
	}
}

// changed reports a file that vanished or no longer has the size uploaded.
func (u *Uploader) changed(path string, size int64) error {
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s: %w", path, errVanished)
	case err != nil:
		return fmt.Errorf("stat %s: %w", path, err)
	case st.Size() != size:
		return fmt.Errorf("%s: %w: %d bytes, uploaded %d", path, errChanged, st.Size(), size)
	}
	return nil
}

// event builds the webhook of a job.
func event(store *s3store.Store, job scan.Job, meta scan.Meta, media string) hook.Event {
	rid := job.RecordingID
	jsonEv := hook.Event{Kind: job.Kind, Meta: meta,
		FileName: rid + "/" + job.JSONName, FileURL: store.URL(store.Key(rid, job.JSONName))}
	if media == "" {
		return jsonEv
	}
	return hook.Event{Kind: job.Kind, Meta: meta,
		FileName: rid + "/" + media, FileURL: store.URL(store.Key(rid, media)),
		MetadataFileName: jsonEv.FileName, MetadataFileURL: jsonEv.FileURL}
}

// progress logs a multipart upload's progress every ProgressInterval until
// the returned stop is called; stop waits for the logging goroutine.
func (u *Uploader) progress(key string, size int64, meter interface{ Sent() int64 }, large bool) (stop func()) {
	if !large {
		return func() {}
	}
	done := make(chan struct{})
	exited := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(exited)
		tick := time.NewTicker(u.cfg.ProgressInterval)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				sent := meter.Sent()
				mbps := float64(sent) * 8 / 1e6 / time.Since(start).Seconds()
				u.log.Info("upload progress", "key", key, "sent", sent, "size", size,
					"percent", 100*sent/max(size, 1), "mbps", fmt.Sprintf("%.1f", mbps))
			}
		}
	}()
	return func() { close(done); <-exited }
}
