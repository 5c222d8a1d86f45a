package throttle

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"time"
)

func data(n int) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestReaderWindow(t *testing.T) {
	src := data(300 << 10)
	tests := []struct {
		name string
		size int64
	}{
		{"whole", int64(len(src))},
		{"prefix", 100<<10 + 3},
		{"empty", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := New(context.Background(), bytes.NewReader(src), tt.size, 0)
			got, err := io.ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, src[:tt.size]) {
				t.Fatalf("read %d bytes, want the first %d", len(got), tt.size)
			}
			if r.BytesRead() != tt.size || r.Size() != tt.size {
				t.Errorf("BytesRead %d Size %d, want %d", r.BytesRead(), r.Size(), tt.size)
			}
			if _, err := r.Seek(0, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, tt.size)
			n, err := r.ReadAt(buf, 0)
			if int64(n) != tt.size || (err != nil && err != io.EOF) || !bytes.Equal(buf, src[:tt.size]) {
				t.Errorf("ReadAt = %d, %v", n, err)
			}
		})
	}
}

func TestReaderShrunkSource(t *testing.T) {
	src := data(1000)
	r := New(context.Background(), bytes.NewReader(src[:500]), 1000, 0)
	buf := make([]byte, 1000)
	n, err := r.ReadAt(buf, 0)
	if n != 500 || err == nil {
		t.Fatalf("ReadAt on a shrunk source = %d, %v; want 500 and an error", n, err)
	}
}

func TestReaderRateLimit(t *testing.T) {
	const size = 256 << 10 // at 4 Mbit/s: 0.5 s, of which one 64 KiB burst is free
	r := New(context.Background(), bytes.NewReader(data(size)), size, 4)
	start := time.Now()
	if _, err := io.Copy(io.Discard, r); err != nil {
		t.Fatal(err)
	}
	if elapsed := time.Since(start); elapsed < 350*time.Millisecond {
		t.Errorf("read %d bytes at 4 Mbit/s in %v, want at least 350ms", size, elapsed)
	}
}

func TestReaderCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := New(ctx, bytes.NewReader(data(1<<20)), 1<<20, 1)
	buf := make([]byte, 1<<20)
	if _, err := r.ReadAt(buf, 0); !errors.Is(err, context.Canceled) {
		t.Fatalf("ReadAt after cancel: %v", err)
	}
}
