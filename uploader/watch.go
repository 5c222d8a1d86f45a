package uploader

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/fsnotify/fsnotify"
)

// watcher reports changes in archive_dir and in each recording directory.
// It is used by the scheduling loop only.
type watcher struct {
	root string
	fs   *fsnotify.Watcher
}

func newWatcher(root string) (*watcher, error) {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watch: %w", err)
	}
	if err := fw.Add(root); err != nil {
		return nil, errors.Join(fmt.Errorf("watch %s: %w", root, err), fw.Close())
	}
	return &watcher{root: root, fs: fw}, nil
}

// watchDir adds a recording directory; adding one twice is harmless.
func (w *watcher) watchDir(dir string) error {
	if err := w.fs.Add(dir); err != nil {
		return fmt.Errorf("watch %s: %w", dir, err)
	}
	return nil
}

// recording maps an event to the recording it concerns: the directory
// itself (isDir) or a file in it. ok is false for events of other paths.
func (w *watcher) recording(ev fsnotify.Event) (rid string, isDir, ok bool) {
	parent := filepath.Dir(ev.Name)
	switch {
	case parent == w.root:
		return filepath.Base(ev.Name), true, true
	case filepath.Dir(parent) == w.root:
		return filepath.Base(parent), false, true
	}
	return "", false, false
}

func (w *watcher) events() <-chan fsnotify.Event {
	if w == nil {
		return nil
	}
	return w.fs.Events
}

func (w *watcher) errors() <-chan error {
	if w == nil {
		return nil
	}
	return w.fs.Errors
}

func (w *watcher) close() error { return w.fs.Close() }
