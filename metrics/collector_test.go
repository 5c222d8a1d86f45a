package metrics

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
)

// families lists every family of kiroku's own; docs/metrics.md documents
// each.
var wantFamilies = []string{
	"kiroku_connections", "kiroku_sessions", "kiroku_connections_total",
	"kiroku_rtp_received_packets_total", "kiroku_rtp_forwarded_packets_total", "kiroku_rtp_bytes_total",
	"kiroku_nack_retransmissions_total", "kiroku_keyframe_requests_total", "kiroku_pli_sent_total",
	"kiroku_malformed_packets_total", "kiroku_sink_dropped_packets_total", "kiroku_recordings",
	"kiroku_archives_total", "kiroku_recording_video_failures_total", "kiroku_recording_gaps_total",
	"kiroku_recorder_queue_dropped_total", "kiroku_archive_finish_seconds",
	"kiroku_webhook_requests_total", "kiroku_webhook_duration_seconds", "kiroku_spotlight_focus_changes_total",
}

func sample() Snapshot {
	h := Histogram{Bounds: []float64{0.1, 1}, Buckets: []uint64{1, 2}, Count: 3, Sum: 4.5}
	return Snapshot{
		Connections: map[string]float64{"sendrecv": 2, "sendonly": 0, "recvonly": 1}, Sessions: 1,
		ConnectionsTotal:   map[string]float64{"created": 3, "established": 3, "rejected": 0, "failed": 1},
		RTPReceivedPackets: 100, RTPForwardedPackets: 200, RTPBytes: map[string]float64{"received": 1e5, "forwarded": 2e5},
		KeyframeRequests: map[string]float64{"viewer": 1, "recorder": 2, "split": 0},
		Recordings:       1, Archives: map[string]float64{"available": 2, "failed": 0},
		VideoFailures:    map[string]float64{"no_packets": 0, "no_keyframe": 1},
		RecordingGaps:    map[GapLabels]float64{{Kind: "video", Cause: "loss"}: 2},
		ArchiveFinish:    h,
		WebhookRequests:  map[WebhookLabels]float64{{Type: "event", Result: "successful"}: 5},
		WebhookDurations: map[string]Histogram{"event": h, "auth": {Bounds: []float64{0.1, 1}, Buckets: []uint64{0, 0}}},
		SpotlightChanges: map[string]float64{"focused": 3, "unfocused": 2},
	}
}

func TestHandler(t *testing.T) {
	h, err := NewHandler(sample)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL + Path)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	text := string(body)
	for _, f := range append(wantFamilies, "go_goroutines", "process_cpu_seconds_total") {
		if !strings.Contains(text, "\n# TYPE "+f+" ") {
			t.Errorf("family %s missing", f)
		}
	}
	problems, err := promlint.New(strings.NewReader(text)).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint %s: %s", p.Metric, p.Text)
	}
	for _, line := range []string{
		`kiroku_connections{role="sendrecv"} 2`,
		`kiroku_rtp_bytes_total{direction="forwarded"} 200000`,
		`kiroku_recording_gaps_total{cause="loss",kind="video"} 2`,
		`kiroku_archive_finish_seconds_bucket{le="+Inf"} 3`,
		`kiroku_webhook_duration_seconds_count{type="event"} 3`,
	} {
		if !strings.Contains(text, line+"\n") {
			t.Errorf("line %q missing", line)
		}
	}
	resp, err = http.Post(srv.URL+Path, "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: status %d, want 405", resp.StatusCode)
	}
}
