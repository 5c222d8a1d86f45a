package node

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"

	"github.com/kiroku-sfu/kiroku/logfile"
)

// processLog is the process log's file name in log_dir.
const processLog = "sfu.jsonl"

// Logs are a node's log outputs: the process log (JSON lines at
// log_level into log_dir/sfu.jsonl; into standard output with
// log_stdout = true; into standard error without log_dir) and the log
// files the running components keep (the webhook logs). Reopen reopens
// every file at its path, for logrotate's create mode (SIGHUP).
type Logs struct {
	// Logger writes the process log.
	Logger *slog.Logger
	file   *logfile.File // nil: not logging into a file

	mu       sync.Mutex
	attached map[int]func() error // reopen functions of running components
	next     int
}

// OpenLogs opens the process log as the settings say.
func OpenLogs(st Settings, stdout, stderr io.Writer) (*Logs, error) {
	c := st.serve
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return nil, fmt.Errorf("log_level %q: %w", c.LogLevel, err)
	}
	l := &Logs{}
	var out io.Writer
	switch {
	case c.LogStdout:
		out = stdout
	case c.LogDir != "":
		f, err := logfile.Open(filepath.Join(c.LogDir, processLog))
		if err != nil {
			return nil, fmt.Errorf("open log: %w", err)
		}
		out, l.file = f, f
	default:
		out = stderr
	}
	l.Logger = slog.New(slog.NewJSONHandler(out, &slog.HandlerOptions{Level: level}))
	return l, nil
}

// attach adds a component's reopen function until detach is called.
func (l *Logs) attach(reopen func() error) (detach func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.attached == nil {
		l.attached = map[int]func() error{}
	}
	id := l.next
	l.next++
	l.attached[id] = reopen
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		delete(l.attached, id)
	}
}

// Reopen reopens the process log file and every attached component's
// log files at their paths; each line is written whole into the old or
// the new file. It returns every failure; a log that cannot be reopened
// goes on into its previous file.
func (l *Logs) Reopen() error {
	var errs []error
	if l.file != nil {
		errs = append(errs, l.file.Reopen())
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, reopen := range l.attached {
		errs = append(errs, reopen())
	}
	return errors.Join(errs...)
}

// Close closes the process log file, if any.
func (l *Logs) Close() error {
	if l.file == nil {
		return nil
	}
	return l.file.Close()
}
