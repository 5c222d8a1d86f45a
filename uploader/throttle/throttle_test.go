package throttle

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// sink answers every request with the SHA-256 of its body.
func sink(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		if _, err := io.Copy(h, r.Body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Write(h.Sum(nil))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func post(ctx context.Context, t *testing.T, url string, payload []byte) ([]byte, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := (&Client{}).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}

func TestTransportMeters(t *testing.T) {
	srv := sink(t)
	payload := bytes.Repeat([]byte("kiroku"), 50_000)
	want := sha256.Sum256(payload)
	tests := []struct {
		name  string
		meter *Meter
	}{
		{"no meter", nil},
		{"unlimited", NewMeter(0)},
		{"limited", NewMeter(1000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			if tt.meter != nil {
				ctx = WithMeter(ctx, tt.meter)
			}
			got, err := post(ctx, t, srv.URL, payload)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want[:]) {
				t.Fatal("server received other bytes than sent")
			}
			if tt.meter != nil && tt.meter.Sent() != int64(len(payload)) {
				t.Errorf("Sent = %d, want %d", tt.meter.Sent(), len(payload))
			}
		})
	}
}

func TestTransportRateLimit(t *testing.T) {
	srv := sink(t)
	const size = 256 << 10 // at 4 Mbit/s: 0.5 s, of which one 64 KiB burst is free
	m := NewMeter(4)
	start := time.Now()
	if _, err := post(WithMeter(context.Background(), m), t, srv.URL, make([]byte, size)); err != nil {
		t.Fatal(err)
	}
	if elapsed := time.Since(start); elapsed < 350*time.Millisecond {
		t.Errorf("sent %d bytes at 4 Mbit/s in %v, want at least 350ms", size, elapsed)
	}
}

func TestTransportCancel(t *testing.T) {
	srv := sink(t)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := post(WithMeter(ctx, NewMeter(0.1)), t, srv.URL, make([]byte, 1<<20))
	if err == nil {
		t.Fatal("a 1 MiB body at 0.1 Mbit/s was sent within a 100 ms deadline")
	}
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Errorf("cancelled upload returned after %v", elapsed)
	}
}
