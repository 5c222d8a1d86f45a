package webhooks

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// callLog appends one JSON line per webhook call to <kind>_webhook.jsonl,
// and failed calls also to <kind>_webhook_error.jsonl, as Sora does.
type callLog struct {
	dir   string
	mu    sync.Mutex
	files map[string]*os.File // nil map: logging disabled, or closed
}

// callRecord is one line of a webhook log.
type callRecord struct {
	Timestamp  string          `json:"timestamp"`
	Kind       Kind            `json:"kind"`
	Type       string          `json:"type,omitempty"`
	Status     int             `json:"status,omitempty"`
	DurationMS int64           `json:"duration_ms"`
	Error      string          `json:"error,omitempty"`
	Request    json.RawMessage `json:"request"`
}

func openCallLog(dir string) (*callLog, error) {
	if dir == "" {
		return &callLog{}, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("webhooks: log dir: %w", err)
	}
	l := &callLog{dir: dir}
	files, err := openLogFiles(dir)
	if err != nil {
		return nil, err
	}
	l.files = files
	return l, nil
}

// logNames are the six log files in log_dir.
func logNames() []string {
	var names []string
	for _, kind := range []Kind{Auth, Session, Event} {
		names = append(names, string(kind)+"_webhook.jsonl", string(kind)+"_webhook_error.jsonl")
	}
	return names
}

// openLogFiles opens (creating) every log file in dir for appending.
func openLogFiles(dir string) (map[string]*os.File, error) {
	files := make(map[string]*os.File)
	for _, name := range logNames() {
		f, err := os.OpenFile(filepath.Join(dir, name), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("webhooks: open log: %w", err), closeAll(files))
		}
		files[name] = f
	}
	return files, nil
}

func closeAll(files map[string]*os.File) error {
	var errs []error
	for _, f := range files {
		errs = append(errs, f.Close())
	}
	return errors.Join(errs...)
}

// reopen opens every log file at its path anew (after logrotate renamed
// them) and closes the previous ones; a line is written whole into the
// old or the new file. If a file cannot be opened, logging goes on into
// the previous files. It does nothing when logging is off or closed.
func (l *callLog) reopen() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.files == nil {
		return nil
	}
	files, err := openLogFiles(l.dir)
	if err != nil {
		return err
	}
	old := l.files
	l.files = files
	return closeAll(old)
}

// write records one call; logging failures are ignored after the first
// attempt because a full disk must not stop webhooks.
func (l *callLog) write(kind Kind, typ string, start time.Time, req []byte, status int, took time.Duration, callErr error) {
	if l.dir == "" {
		return
	}
	rec := callRecord{
		Timestamp: start.UTC().Format(TimestampLayout), Kind: kind, Type: typ,
		Status: status, DurationMS: took.Milliseconds(), Request: json.RawMessage(req),
	}
	if !json.Valid(req) {
		rec.Request = nil
	}
	if callErr != nil {
		rec.Error = callErr.Error()
	}
	line, err := json.Marshal(rec)
	if err != nil {
		return
	}
	line = append(line, '\n')
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.files == nil { // closed
		return
	}
	_, _ = l.files[string(kind)+"_webhook.jsonl"].Write(line)
	if callErr != nil {
		_, _ = l.files[string(kind)+"_webhook_error.jsonl"].Write(line)
	}
}

func (l *callLog) close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	err := closeAll(l.files)
	l.files = nil
	return err
}
