package uploader

import (
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	cfg := DefaultConfig()
	cfg.RetryMinInterval, cfg.RetryMaxInterval = time.Second, 10*time.Second
	l := &loop{u: &Uploader{cfg: cfg}}
	tests := []struct {
		attempt int
		base    time.Duration
	}{
		{1, time.Second},
		{2, 2 * time.Second},
		{3, 4 * time.Second},
		{4, 8 * time.Second},
		{5, 10 * time.Second},
		{50, 10 * time.Second},
	}
	for _, tt := range tests {
		for range 100 {
			d := l.backoff(tt.attempt)
			if d < tt.base/2 || d >= tt.base*3/2 {
				t.Fatalf("backoff(%d) = %v, want within [%v, %v)", tt.attempt, d, tt.base/2, tt.base*3/2)
			}
		}
	}
}

func TestUntilNext(t *testing.T) {
	now := time.Now()
	l := &loop{entries: map[string]*entry{
		"busy":        {busy: true, next: now.Add(-time.Hour)},
		"quarantined": {quarantined: &Quarantined{}, next: now},
		"later":       {next: now.Add(3 * time.Second)},
		"soon":        {next: now.Add(2 * time.Second)},
	}}
	if got := l.untilNext(now); got != 2*time.Second {
		t.Errorf("untilNext = %v, want 2s", got)
	}
	l.entries["due"] = &entry{next: now.Add(-time.Second)}
	if got := l.untilNext(now); got != time.Millisecond {
		t.Errorf("untilNext with a due entry = %v, want 1ms", got)
	}
}
