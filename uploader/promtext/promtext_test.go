package promtext

import (
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

func TestExposition(t *testing.T) {
	r := &Registry{}
	g := r.NewGauge("g", "a gauge")
	c := r.NewCounterVec("c_total", "a counter", "class")
	plain := r.NewCounterVec("p_total", "plain", "")
	h := r.NewHistogram("h_seconds", "a histogram", []float64{1, 0.5})
	g.Set(3)
	c.Add("b", 1)
	c.Add("a", 2.5)
	c.Add("a", -1) // ignored: counters only go up
	plain.Add("", 7)
	for _, v := range []float64{0.1, 0.5, 0.7, 9} {
		h.Observe(v)
	}
	want := `# HELP g a gauge
# TYPE g gauge
g 3
# HELP c_total a counter
# TYPE c_total counter
c_total{class="a"} 2.5
c_total{class="b"} 1
# HELP p_total plain
# TYPE p_total counter
p_total 7
# HELP h_seconds a histogram
# TYPE h_seconds histogram
h_seconds_bucket{le="0.5"} 2
h_seconds_bucket{le="1"} 3
h_seconds_bucket{le="+Inf"} 4
h_seconds_sum 10.3
h_seconds_count 4
`
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if got := rec.Body.String(); got != want {
		t.Errorf("exposition:\n%s\nwant:\n%s", got, want)
	}
	if !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Errorf("content type %q", rec.Header().Get("Content-Type"))
	}
	if c.Value("a") != 2.5 {
		t.Errorf("Value = %v", c.Value("a"))
	}
}

func TestConcurrentUse(t *testing.T) {
	r := &Registry{}
	c := r.NewCounterVec("c_total", "c", "")
	h := r.NewHistogram("h", "h", []float64{1})
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 1000 {
				c.Add("", 1)
				h.Observe(0.5)
				r.Write(&strings.Builder{})
			}
		}()
	}
	wg.Wait()
	if c.Value("") != 8000 {
		t.Errorf("counter = %v, want 8000", c.Value(""))
	}
}
