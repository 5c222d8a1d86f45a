// Package metrics exposes a kiroku node's counters in Prometheus' text
// format. It imports none of kiroku's packages: the node assembles a
// Snapshot from the counters the SFU, signaling, recording and webhook
// packages already keep, and the Collector reads one per scrape. Nothing
// is counted here, so metrics cost nothing per forwarded packet; a scrape
// costs one snapshot.
//
// No family has a per-channel or per-connection label: every label takes
// a few fixed values, so the number of series is bounded.
package metrics

// Snapshot is every value of one scrape. Maps hold one series per label
// value; a value absent from a map is not exported, so producers fill in
// every known label value (with 0) for the families to be present from
// the start.
type Snapshot struct {
	Connections      map[string]float64 // open connections by role
	Sessions         float64            // live sessions (channels with connections)
	ConnectionsTotal map[string]float64 // connections by result

	RTPReceivedPackets  float64
	RTPForwardedPackets float64
	RTPBytes            map[string]float64 // by direction
	NACKRetransmissions float64
	KeyframeRequests    map[string]float64 // by reason
	PLIsSent            float64
	MalformedPackets    float64
	SinkDropped         float64

	Recordings           float64
	Archives             map[string]float64    // by result
	VideoFailures        map[string]float64    // by cause
	RecordingGaps        map[GapLabels]float64 // by kind and cause
	RecorderQueueDropped float64
	ArchiveFinish        Histogram

	WebhookRequests  map[WebhookLabels]float64
	WebhookDurations map[string]Histogram // by type

	SpotlightChanges map[string]float64 // focus changes in spotlight channels: focused, unfocused
}

// GapLabels are the labels of a recording gap: its track kind (audio,
// video) and cause (loss, ssrc_change, backpressure, wait_keyframe,
// codec_error).
type GapLabels struct{ Kind, Cause string }

// WebhookLabels are the labels of a webhook count: its type (auth,
// session, event) and result (successful, failed, ignored, dropped).
type WebhookLabels struct{ Type, Result string }

// Histogram is a cumulative histogram: Buckets[i] counts observations at
// most Bounds[i] (seconds); Count and Sum cover every observation.
type Histogram struct {
	Bounds  []float64
	Buckets []uint64
	Count   uint64
	Sum     float64
}
