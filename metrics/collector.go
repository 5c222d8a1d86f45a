package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// desc builds a family's description with the kiroku_ prefix.
func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc("kiroku_"+name, help, labels, nil)
}

// families are the descriptions of every family the Collector exports.
type families struct {
	connections, sessions, connectionsTotal                 *prometheus.Desc
	rtpReceived, rtpForwarded, rtpBytes, nack               *prometheus.Desc
	keyframes, plis, malformed, sinkDropped                 *prometheus.Desc
	recordings, archives, videoFailures, gaps, queueDropped *prometheus.Desc
	archiveFinish, webhookRequests, webhookDuration         *prometheus.Desc
	spotlightChanges                                        *prometheus.Desc
}

func newFamilies() families {
	return families{
		connections:      desc("connections", "Connections open now, by role.", "role"),
		sessions:         desc("sessions", "Sessions live now (channels with connections)."),
		connectionsTotal: desc("connections_total", "Connections by result: created (join admitted), established (first answer applied), rejected (join refused by the SFU: mode, duplicate id), failed (closed by kiroku with a 4xxx code).", "result"),
		rtpReceived:      desc("rtp_received_packets_total", "RTP packets received from publishers."),
		rtpForwarded:     desc("rtp_forwarded_packets_total", "RTP packets forwarded to viewers (one per viewer)."),
		rtpBytes:         desc("rtp_bytes_total", "RTP payload bytes, by direction (received from publishers, forwarded to viewers).", "direction"),
		nack:             desc("nack_retransmissions_total", "Packets sent again in answer to a viewer's NACK."),
		keyframes:        desc("keyframe_requests_total", "Keyframe requests for publishers, by reason (viewer, recorder, split), before merging into PLIs.", "reason"),
		plis:             desc("pli_sent_total", "PLIs sent to publishers after merging the requests."),
		malformed:        desc("malformed_packets_total", "RTP packets and RTCP compounds from clients that could not be read, skipped."),
		sinkDropped:      desc("sink_dropped_packets_total", "Packets the SFU dropped for subscribers (recorders) that did not keep up."),
		recordings:       desc("recordings", "Recordings running now."),
		archives:         desc("archives_total", "Recorded files by result: available (media and JSON delivered) or failed (a connection with nothing recorded, or a file that could not be delivered).", "result"),
		videoFailures:    desc("recording_video_failures_total", "Recorded connections whose video failed, by archive JSON stats.video_failure.", "cause"),
		gaps:             desc("recording_gaps_total", "Gaps in delivered files, by track kind and cause.", "kind", "cause"),
		queueDropped:     desc("recorder_queue_dropped_total", "Packets dropped at a recorder's full hand-off queue."),
		archiveFinish:    desc("archive_finish_seconds", "Time from a recorder's stop to its files delivered."),
		webhookRequests:  desc("webhook_requests_total", "Webhooks by type and result (per webhook, retries included in one).", "type", "result"),
		webhookDuration:  desc("webhook_duration_seconds", "Time of each webhook HTTP request (every attempt), by type.", "type"),
		spotlightChanges: desc("spotlight_focus_changes_total", "Publishers of spotlight channels focused or unfocused (by voice or the API), by change.", "change"),
	}
}

// Collector reads a Snapshot at each scrape and exports it.
type Collector struct {
	f        families
	snapshot func() Snapshot
}

// NewCollector returns a Collector that calls snapshot once per scrape;
// snapshot must be safe for concurrent use.
func NewCollector(snapshot func() Snapshot) *Collector {
	return &Collector{f: newFamilies(), snapshot: snapshot}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	f := c.f
	for _, d := range []*prometheus.Desc{f.connections, f.sessions, f.connectionsTotal, f.rtpReceived,
		f.rtpForwarded, f.rtpBytes, f.nack, f.keyframes, f.plis, f.malformed, f.sinkDropped, f.recordings,
		f.archives, f.videoFailures, f.gaps, f.queueDropped, f.archiveFinish, f.webhookRequests, f.webhookDuration,
		f.spotlightChanges} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	s, f := c.snapshot(), c.f
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	eachLabel(s.Connections, func(l string, v float64) { gauge(f.connections, v, l) })
	gauge(f.sessions, s.Sessions)
	eachLabel(s.ConnectionsTotal, func(l string, v float64) { counter(f.connectionsTotal, v, l) })
	counter(f.rtpReceived, s.RTPReceivedPackets)
	counter(f.rtpForwarded, s.RTPForwardedPackets)
	eachLabel(s.RTPBytes, func(l string, v float64) { counter(f.rtpBytes, v, l) })
	counter(f.nack, s.NACKRetransmissions)
	eachLabel(s.KeyframeRequests, func(l string, v float64) { counter(f.keyframes, v, l) })
	counter(f.plis, s.PLIsSent)
	counter(f.malformed, s.MalformedPackets)
	counter(f.sinkDropped, s.SinkDropped)
	gauge(f.recordings, s.Recordings)
	eachLabel(s.Archives, func(l string, v float64) { counter(f.archives, v, l) })
	eachLabel(s.VideoFailures, func(l string, v float64) { counter(f.videoFailures, v, l) })
	for k, v := range s.RecordingGaps {
		counter(f.gaps, v, k.Kind, k.Cause)
	}
	counter(f.queueDropped, s.RecorderQueueDropped)
	ch <- constHistogram(f.archiveFinish, s.ArchiveFinish)
	for k, v := range s.WebhookRequests {
		counter(f.webhookRequests, v, k.Type, k.Result)
	}
	eachLabel(s.WebhookDurations, func(l string, h Histogram) { ch <- constHistogram(f.webhookDuration, h, l) })
	eachLabel(s.SpotlightChanges, func(l string, v float64) { counter(f.spotlightChanges, v, l) })
}

func eachLabel[V any](m map[string]V, f func(string, V)) {
	for l, v := range m {
		f(l, v)
	}
}

// constHistogram exports h; its buckets are already cumulative.
func constHistogram(d *prometheus.Desc, h Histogram, labels ...string) prometheus.Metric {
	buckets := make(map[float64]uint64, len(h.Bounds))
	for i, b := range h.Bounds {
		if i < len(h.Buckets) {
			buckets[b] = h.Buckets[i]
		}
	}
	return prometheus.MustNewConstHistogram(d, h.Count, h.Sum, buckets, labels...)
}
