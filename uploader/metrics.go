package uploader

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the uploader's Prometheus series, on a registry it owns.
type metrics struct {
	registry    *prometheus.Registry
	pending     prometheus.Gauge
	quarantined prometheus.Gauge
	inFlight    prometheus.Gauge
	uploaded    *prometheus.CounterVec // by job kind
	failures    *prometheus.CounterVec // by failure class
	bytes       prometheus.Counter
	latency     prometheus.Histogram
	strays      prometheus.Counter
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		pending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kiroku_uploader_pending_jobs",
			Help: "Jobs ready to upload or waiting for a retry, quarantined ones excluded.",
		}),
		quarantined: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kiroku_uploader_quarantined_jobs",
			Help: "Jobs held back by a configuration error (bucket, region, credentials, bad metadata).",
		}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kiroku_uploader_in_flight_jobs",
			Help: "Jobs being uploaded now.",
		}),
		uploaded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kiroku_uploader_uploaded_jobs_total",
			Help: "Jobs (a JSON and its media) uploaded, verified and announced, by kind.",
		}, []string{"kind"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kiroku_uploader_failures_total",
			Help: "Failed job attempts by class: transient, permanent, vanished, webhook, local.",
		}, []string{"class"}),
		bytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kiroku_uploader_uploaded_bytes_total",
			Help: "Bytes of files uploaded and verified.",
		}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "kiroku_uploader_upload_latency_seconds",
			Help:    "From a job's JSON appearing (or the uploader starting) to its objects being verified.",
			Buckets: []float64{.025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 1800},
		}),
		strays: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kiroku_uploader_stray_files_total",
			Help: "Media files left in place when their recording's report was uploaded: no JSON came for them and the report does not reference them.",
		}),
	}
	m.registry.MustRegister(m.pending, m.quarantined, m.inFlight, m.uploaded, m.failures, m.bytes, m.latency, m.strays,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
