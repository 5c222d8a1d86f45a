package ingestbench

import (
	"fmt"
	"os"
	"time"
)

// clipBytesPerSecond is what one publisher sends, with headroom: the
// clip's 2.5 Mbit/s of video and its audio, RTP and SRTP overhead.
const clipBytesPerSecond = 3_000_000 / 8

// recycledPages is how much memory recyclePages passes through the page
// cache before the first window: twice what the largest window's
// recordings can take (warm-up, window and ten seconds of set-up).
func recycledPages(publishers int, warmup, window time.Duration) int64 {
	span := (warmup + window + 10*time.Second).Seconds()
	return 2 * int64(float64(publishers*clipBytesPerSecond)*span)
}

// recyclePages writes size bytes into a file in dir and removes it. On a
// virtual machine whose host backs guest memory lazily, the first write
// into a page the guest never used costs about ten times a write into a
// page it freed before (measured: 4.5 ns a byte against 0.3–0.4 through
// ext4). Recordings go through the page cache, so without this whichever
// server ran first would pay for the machine's first touch of that
// memory, and the servers after it, drawing on the pages its deleted
// recordings freed, would not.
func recyclePages(dir string, size int64) error {
	f, err := os.CreateTemp(dir, "recycle-")
	if err != nil {
		return fmt.Errorf("recycle page cache: %w", err)
	}
	defer func() { _ = os.Remove(f.Name()) }()
	chunk := make([]byte, 1<<20)
	for i := range chunk {
		chunk[i] = byte(i)
	}
	for done := int64(0); done < size; done += int64(len(chunk)) {
		if _, err := f.Write(chunk); err != nil {
			_ = f.Close()
			return fmt.Errorf("recycle page cache: %w", err)
		}
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("recycle page cache: %w", err)
	}
	return nil
}
