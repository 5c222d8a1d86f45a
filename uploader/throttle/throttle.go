// Package throttle wraps a file for upload: it exposes a fixed-size window
// of it as an io.ReaderAt and io.ReadSeeker (so the S3 transfer manager reads
// parts in place, without buffering them), limits the read rate, and counts
// the bytes read for progress reports.
package throttle

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"

	"golang.org/x/time/rate"
)

// chunk bounds one limiter wait so that the burst stays small.
const chunk = 64 << 10

// Reader reads the first size bytes of an io.ReaderAt at a bounded rate.
// ReadAt is safe for concurrent use; Read and Seek share one cursor and are
// not.
type Reader struct {
	ctx     context.Context
	section *io.SectionReader
	limiter *rate.Limiter // nil: unlimited
	read    atomic.Int64
}

// New returns a Reader over the first size bytes of r, limited to mbps
// megabits per second (0 or less: unlimited). Waits for the limiter end when
// ctx ends.
func New(ctx context.Context, r io.ReaderAt, size int64, mbps float64) *Reader {
	t := &Reader{ctx: ctx, section: io.NewSectionReader(r, 0, size)}
	if mbps > 0 {
		bytesPerSec := mbps * 1e6 / 8
		t.limiter = rate.NewLimiter(rate.Limit(bytesPerSec), chunk)
	}
	return t
}

// Size is the window's length.
func (t *Reader) Size() int64 { return t.section.Size() }

// BytesRead is the total number of bytes handed out so far; parts that are
// re-read (retries, signing) count again.
func (t *Reader) BytesRead() int64 { return t.read.Load() }

// ReadAt implements io.ReaderAt.
func (t *Reader) ReadAt(p []byte, off int64) (int, error) {
	total := 0
	for len(p) > 0 {
		n := min(len(p), chunk)
		if err := t.wait(n); err != nil {
			return total, err
		}
		got, err := t.section.ReadAt(p[:n], off)
		total += got
		t.read.Add(int64(got))
		if err != nil {
			return total, err
		}
		p, off = p[got:], off+int64(got)
	}
	return total, nil
}

// Read implements io.Reader.
func (t *Reader) Read(p []byte) (int, error) {
	n := min(len(p), chunk)
	if err := t.wait(n); err != nil {
		return 0, err
	}
	got, err := t.section.Read(p[:n])
	t.read.Add(int64(got))
	return got, err
}

// Seek implements io.Seeker.
func (t *Reader) Seek(offset int64, whence int) (int64, error) {
	return t.section.Seek(offset, whence)
}

func (t *Reader) wait(n int) error {
	if t.limiter == nil {
		return nil
	}
	if err := t.limiter.WaitN(t.ctx, n); err != nil {
		return fmt.Errorf("throttle: %w", err)
	}
	return nil
}
