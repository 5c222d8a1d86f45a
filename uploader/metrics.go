package uploader

import "github.com/kiroku-sfu/kiroku/uploader/promtext"

// metrics are the uploader's Prometheus series, on a registry it owns.
type metrics struct {
	registry    *promtext.Registry
	pending     *promtext.Gauge
	quarantined *promtext.Gauge
	inFlight    *promtext.Gauge
	uploaded    *promtext.CounterVec // by job kind
	failures    *promtext.CounterVec // by failure class
	bytes       *promtext.CounterVec
	latency     *promtext.Histogram
}

func newMetrics() *metrics {
	r := &promtext.Registry{}
	return &metrics{
		registry: r,
		pending: r.NewGauge("kiroku_uploader_pending_jobs",
			"Jobs ready to upload or waiting for a retry, quarantined ones excluded."),
		quarantined: r.NewGauge("kiroku_uploader_quarantined_jobs",
			"Jobs held back by a configuration error (bucket, region, credentials, bad metadata)."),
		inFlight: r.NewGauge("kiroku_uploader_in_flight_jobs", "Jobs being uploaded now."),
		uploaded: r.NewCounterVec("kiroku_uploader_uploaded_jobs_total",
			"Jobs (a JSON and its media) uploaded, verified and announced, by kind.", "kind"),
		failures: r.NewCounterVec("kiroku_uploader_failures_total",
			"Failed job attempts by class: transient, permanent, vanished, webhook, local.", "class"),
		bytes: r.NewCounterVec("kiroku_uploader_uploaded_bytes_total", "Bytes of files uploaded and verified.", ""),
		latency: r.NewHistogram("kiroku_uploader_upload_latency_seconds",
			"From a job's JSON appearing (or the uploader starting) to its objects being verified.",
			[]float64{.025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 1800}),
	}
}
