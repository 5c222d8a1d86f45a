package logfile

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestReopenLosesNothing writes numbered lines from several goroutines
// while the file is renamed and reopened again and again, as logrotate
// does: every line ends up whole in exactly one of the files.
func TestReopenLosesNothing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.jsonl")
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	const writers, lines, rotations = 4, 2000, 50
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range lines {
				if _, err := fmt.Fprintf(l, "{\"w\":%d,\"i\":%d}\n", w, i); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	for r := range rotations {
		if err := os.Rename(path, fmt.Sprintf("%s.%d", path, r)); err != nil {
			t.Fatal(err)
		}
		if err := l.Reopen(); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	files, _ := filepath.Glob(path + "*")
	if len(files) != rotations+1 {
		t.Errorf("%d files, want %d", len(files), rotations+1)
	}
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			seen[sc.Text()]++
		}
		f.Close()
	}
	for w := range writers {
		for i := range lines {
			if line := fmt.Sprintf("{\"w\":%d,\"i\":%d}", w, i); seen[line] != 1 {
				t.Fatalf("line %s found %d times, want once", line, seen[line])
			}
		}
	}
	if len(seen) != writers*lines {
		t.Errorf("%d distinct lines, want %d (torn lines?)", len(seen), writers*lines)
	}
}

// TestReopenCreatesAndLifecycle covers a reopen after the file was
// removed, a failing reopen that keeps the old file, and use after Close.
func TestReopenCreatesAndLifecycle(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "x.log")
	if _, err := Open(path); err == nil {
		t.Fatal("Open in a missing directory succeeded")
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if l.Path() != path {
		t.Errorf("Path = %s", l.Path())
	}
	_, _ = l.Write([]byte("one\n"))
	if err := os.RemoveAll(filepath.Join(dir, "sub")); err != nil {
		t.Fatal(err)
	}
	if err := l.Reopen(); err == nil {
		t.Error("Reopen into a removed directory succeeded")
	}
	if _, err := l.Write([]byte("still\n")); err != nil {
		t.Errorf("write after a failed reopen: %v", err)
	}
	_ = os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	if err := l.Reopen(); err != nil {
		t.Fatal(err)
	}
	_, _ = l.Write([]byte("two\n"))
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := l.Reopen(); err != nil {
		t.Errorf("Reopen after Close: %v", err)
	}
	if _, err := l.Write([]byte("x\n")); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Write after Close: %v, want ErrClosed", err)
	}
	b, _ := os.ReadFile(path)
	if strings.TrimSpace(string(b)) != "two" {
		t.Errorf("new file holds %q, want two", b)
	}
}
