package webhooks

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestReopenLogsAfterRename renames every log file while webhooks are
// logged, reopens, and finds each line whole in the old or the new file,
// the lines after the reopen in the new files.
func TestReopenLogsAfterRename(t *testing.T) {
	r := newReceiver(t)
	dir := t.TempDir()
	c := testClient(t, func(c *Config) { c.EventURL = r.URL; c.LogDir = dir; c.QueueSize = 1000 })
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 100 {
			c.Send(Event, fmt.Sprintf("t%d", i), c.Common("x"), nil)
		}
	}()
	for _, name := range logNames() {
		if err := os.Rename(filepath.Join(dir, name), filepath.Join(dir, name+".1")); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.ReopenLogs(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	c.Send(Event, "after", c.Common("after"), nil)
	if err := c.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, name := range logNames() {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s not created again: %v", name, err)
		}
	}
	old := readLines(t, filepath.Join(dir, "event_webhook.jsonl.1"))
	cur := readLines(t, filepath.Join(dir, "event_webhook.jsonl"))
	if n := len(old) + len(cur); n != 101 {
		t.Errorf("%d lines in the old and new event logs, want 101", n)
	}
	if len(cur) == 0 || !containsType(cur[len(cur)-1], "after") {
		t.Errorf("the line after the reopen is not last in the new file: %v", cur)
	}
	if err := c.ReopenLogs(); err != nil {
		t.Errorf("ReopenLogs after Close: %v", err)
	}
}

func containsType(line, typ string) bool { return strings.Contains(line, `"type":"`+typ+`"`) }

// TestReopenLogsWithoutDir does nothing when logging is off.
func TestReopenLogsWithoutDir(t *testing.T) {
	c := testClient(t, func(*Config) {})
	if err := c.ReopenLogs(); err != nil {
		t.Fatal(err)
	}
}
