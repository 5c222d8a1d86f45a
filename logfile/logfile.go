// Package logfile is an append-only log file that can be reopened at its
// path, so that logrotate's `create` mode works: logrotate renames the
// file and signals the process (SIGHUP), and Reopen starts a new file at
// the old path while the renamed one keeps every line written before.
//
// A File serialises its writes: each Write goes whole into either the
// old or the new file, never split and never lost, however it races with
// Reopen.
package logfile

import (
	"errors"
	"fmt"
	"os"
	"sync"
)

// Perm is the mode new log files are created with.
const Perm = 0o644

// File is a log file opened for appending. It is safe for concurrent use.
type File struct {
	path string

	mu     sync.Mutex
	f      *os.File
	closed bool
}

// Open opens path for appending, creating it when needed.
func Open(path string) (*File, error) {
	f, err := openAppend(path)
	if err != nil {
		return nil, err
	}
	return &File{path: path, f: f}, nil
}

func openAppend(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, Perm)
	if err != nil {
		return nil, fmt.Errorf("logfile: open %s: %w", path, err)
	}
	return f, nil
}

// Path is the file's path.
func (l *File) Path() string { return l.path }

// Write appends p. After Close it fails with os.ErrClosed.
func (l *File) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return 0, fmt.Errorf("logfile: write %s: %w", l.path, os.ErrClosed)
	}
	return l.f.Write(p)
}

// Reopen opens the path anew (creating the file if it was renamed or
// removed) and closes the previous file once no write uses it. If the
// path cannot be opened, writes go on into the previous file and the
// error is returned. Reopen after Close does nothing.
func (l *File) Reopen() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	f, err := openAppend(l.path)
	if err != nil {
		return err
	}
	old := l.f
	l.f = f
	if err := old.Close(); err != nil {
		return fmt.Errorf("logfile: close previous %s: %w", l.path, err)
	}
	return nil
}

// Close closes the file; it is idempotent.
func (l *File) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	if err := l.f.Close(); err != nil && !errors.Is(err, os.ErrClosed) {
		return fmt.Errorf("logfile: close %s: %w", l.path, err)
	}
	return nil
}
