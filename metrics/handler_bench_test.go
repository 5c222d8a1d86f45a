package metrics

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkScrape is the CPU of one /metrics answer, with the Go and
// process collectors, plain and gzipped (as Prometheus asks for it).
func BenchmarkScrape(b *testing.B) {
	h, err := NewHandler(sample)
	if err != nil {
		b.Fatal(err)
	}
	for _, enc := range []string{"identity", "gzip"} {
		b.Run(enc, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				req := httptest.NewRequest(http.MethodGet, Path, nil)
				req.Header.Set("Accept-Encoding", enc)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d", w.Code)
				}
			}
		})
	}
}
