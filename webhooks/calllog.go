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
	mu    sync.Mutex
	files map[string]*os.File // nil map: logging disabled
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
	l := &callLog{files: make(map[string]*os.File)}
	for _, kind := range []Kind{Auth, Session, Event} {
		for _, name := range []string{string(kind) + "_webhook.jsonl", string(kind) + "_webhook_error.jsonl"} {
			f, err := os.OpenFile(filepath.Join(dir, name), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
			if err != nil {
				return nil, errors.Join(fmt.Errorf("webhooks: open log: %w", err), l.close())
			}
			l.files[name] = f
		}
	}
	return l, nil
}

// write records one call; logging failures are ignored after the first
// attempt because a full disk must not stop webhooks.
func (l *callLog) write(kind Kind, typ string, start time.Time, req []byte, status int, took time.Duration, callErr error) {
	if l.files == nil {
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
	_, _ = l.files[string(kind)+"_webhook.jsonl"].Write(line)
	if callErr != nil {
		_, _ = l.files[string(kind)+"_webhook_error.jsonl"].Write(line)
	}
}

func (l *callLog) close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	var errs []error
	for _, f := range l.files {
		if f != nil {
			errs = append(errs, f.Close())
		}
	}
	l.files = nil
	return errors.Join(errs...)
}
