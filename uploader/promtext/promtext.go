// Package promtext keeps a handful of counters, gauges and histograms and
// writes them in the Prometheus text exposition format (version 0.0.4).
//
// It stands in for prometheus/client_golang, whose dependencies' checksums
// the module's go.sum does not list yet; its surface mirrors the few calls
// the uploader makes, so switching back is a small change.
package promtext

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Registry holds metrics and serves them. It is safe for concurrent use.
type Registry struct {
	mu      sync.Mutex
	metrics []metric
}

type metric interface {
	write(w io.Writer)
}

// header writes the HELP and TYPE lines.
func header(w io.Writer, name, help, typ string) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", name, strings.ReplaceAll(help, "\n", " "), name, typ)
}

func (r *Registry) add(m metric) {
	r.mu.Lock()
	r.metrics = append(r.metrics, m)
	r.mu.Unlock()
}

// Write writes every metric in registration order.
func (r *Registry) Write(w io.Writer) {
	r.mu.Lock()
	metrics := append([]metric(nil), r.metrics...)
	r.mu.Unlock()
	for _, m := range metrics {
		m.write(w)
	}
}

// ServeHTTP serves the exposition.
func (r *Registry) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	r.Write(w)
}

// Gauge is a value that goes up and down.
type Gauge struct {
	name, help string
	mu         sync.Mutex
	v          float64
}

// NewGauge registers a gauge.
func (r *Registry) NewGauge(name, help string) *Gauge {
	g := &Gauge{name: name, help: help}
	r.add(g)
	return g
}

// Set sets the gauge.
func (g *Gauge) Set(v float64) {
	g.mu.Lock()
	g.v = v
	g.mu.Unlock()
}

func (g *Gauge) write(w io.Writer) {
	g.mu.Lock()
	defer g.mu.Unlock()
	header(w, g.name, g.help, "gauge")
	fmt.Fprintf(w, "%s %s\n", g.name, format(g.v))
}

// CounterVec is a family of counters told apart by one label.
type CounterVec struct {
	name, help, label string
	mu                sync.Mutex
	v                 map[string]float64
}

// NewCounterVec registers a counter family with one label; label "" makes
// a single unlabelled counter.
func (r *Registry) NewCounterVec(name, help, label string) *CounterVec {
	c := &CounterVec{name: name, help: help, label: label, v: map[string]float64{}}
	r.add(c)
	return c
}

// Add adds d (0 or more) to the counter with label value lv.
func (c *CounterVec) Add(lv string, d float64) {
	if d < 0 {
		return
	}
	c.mu.Lock()
	c.v[lv] += d
	c.mu.Unlock()
}

// Value returns the counter with label value lv.
func (c *CounterVec) Value(lv string) float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.v[lv]
}

func (c *CounterVec) write(w io.Writer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	header(w, c.name, c.help, "counter")
	keys := make([]string, 0, len(c.v))
	for k := range c.v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if c.label == "" {
			fmt.Fprintf(w, "%s %s\n", c.name, format(c.v[k]))
			continue
		}
		fmt.Fprintf(w, "%s{%s=%s} %s\n", c.name, c.label, strconv.Quote(k), format(c.v[k]))
	}
}

// Histogram counts observations into cumulative buckets.
type Histogram struct {
	name, help string
	bounds     []float64
	mu         sync.Mutex
	counts     []uint64 // per bound, not cumulative
	count      uint64
	sum        float64
}

// NewHistogram registers a histogram with ascending upper bounds.
func (r *Registry) NewHistogram(name, help string, bounds []float64) *Histogram {
	b := append([]float64(nil), bounds...)
	sort.Float64s(b)
	h := &Histogram{name: name, help: help, bounds: b, counts: make([]uint64, len(b))}
	r.add(h)
	return h
}

// Observe records one value.
func (h *Histogram) Observe(v float64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if i := sort.SearchFloat64s(h.bounds, v); i < len(h.bounds) {
		h.counts[i]++
	}
	h.count++
	h.sum += v
}

func (h *Histogram) write(w io.Writer) {
	h.mu.Lock()
	defer h.mu.Unlock()
	header(w, h.name, h.help, "histogram")
	var cum uint64
	for i, b := range h.bounds {
		cum += h.counts[i]
		fmt.Fprintf(w, "%s_bucket{le=\"%s\"} %d\n", h.name, format(b), cum)
	}
	fmt.Fprintf(w, "%s_bucket{le=\"+Inf\"} %d\n%s_sum %s\n%s_count %d\n", h.name, h.count, h.name, format(h.sum), h.name, h.count)
}

func format(v float64) string {
	if math.IsInf(v, 1) {
		return "+Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
