package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// metricFamilies are kiroku's own families (docs/metrics.md).
var metricFamilies = []string{
	"kiroku_connections", "kiroku_sessions", "kiroku_connections_total",
	"kiroku_rtp_received_packets_total", "kiroku_rtp_forwarded_packets_total", "kiroku_rtp_bytes_total",
	"kiroku_nack_retransmissions_total", "kiroku_keyframe_requests_total", "kiroku_pli_sent_total",
	"kiroku_malformed_packets_total", "kiroku_sink_dropped_packets_total", "kiroku_recordings",
	"kiroku_archives_total", "kiroku_recording_video_failures_total", "kiroku_recording_gaps_total",
	"kiroku_recorder_queue_dropped_total", "kiroku_archive_finish_seconds",
	"kiroku_webhook_requests_total", "kiroku_webhook_duration_seconds",
	"go_goroutines", "process_cpu_seconds_total",
}

// scrape is one /metrics answer: its text and each sample by series.
type scrape struct {
	text    string
	samples map[string]float64 // `name{labels}` as written → value
}

// get is a sample's value; a missing series fails the test.
func (s scrape) get(t *testing.T, series string) float64 {
	t.Helper()
	v, ok := s.samples[series]
	if !ok {
		t.Fatalf("series %s not in /metrics", series)
	}
	return v
}

// scrapeMetrics GETs /metrics from the API port, checks that every family
// is there and that promtool finds nothing wrong with the text.
func scrapeMetrics(t *testing.T, apiPort int) scrape {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", apiPort))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: status %d, %v", resp.StatusCode, err)
	}
	s := scrape{text: string(body), samples: map[string]float64{}}
	sc := bufio.NewScanner(strings.NewReader(s.text))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			s.samples[line[:i]] = v
		}
	}
	for _, f := range metricFamilies {
		if !strings.Contains(s.text, "\n# TYPE "+f+" ") {
			t.Errorf("family %s missing from /metrics", f)
		}
	}
	promtool(t, s.text)
	return s
}

// promtool runs `promtool check metrics` on text.
func promtool(t *testing.T, text string) {
	t.Helper()
	bin, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatalf("promtool is needed (make deps installs Debian's prometheus package): %v", err)
	}
	cmd := exec.Command(bin, "check", "metrics")
	cmd.Stdin = strings.NewReader(text)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

// TestMetrics scrapes /metrics while two pages publish and are recorded,
// and again after the recording stopped: every family is present and
// promtool-clean, and the counters moved as the session did.
func TestMetrics(t *testing.T) {
	const channel = "metrics"
	hooks := &hookLog{}
	srv := startRecServer(t, hooks, "")
	before := scrapeMetrics(t, srv.apiPort)
	if v := before.get(t, "kiroku_rtp_forwarded_packets_total"); v != 0 {
		t.Errorf("forwarded packets before any page: %v", v)
	}
	a := srv.joinAt(t, "a", channel, "VP8", nil)
	b := srv.joinAt(t, "b", channel, "VP8", nil)
	expectFlow(t, a, b, "VP8")
	expectFlow(t, b, a, "VP8")
	var rec recordingInfo
	srv.api(t, "Sora_20231220.StartRecording", map[string]any{"channel_id": channel}, &rec)
	time.Sleep(4 * time.Second)

	during := scrapeMetrics(t, srv.apiPort)
	for series, want := range map[string]float64{
		`kiroku_connections{role="sendrecv"}`:                        2,
		`kiroku_connections{role="recvonly"}`:                        0,
		`kiroku_sessions`:                                            1,
		`kiroku_recordings`:                                          1,
		`kiroku_connections_total{result="created"}`:                 2,
		`kiroku_archives_total{result="available"}`:                  0,
		`kiroku_recording_video_failures_total{cause="no_keyframe"}`: 0,
	} {
		if got := during.get(t, series); got != want {
			t.Errorf("during: %s = %v, want %v", series, got, want)
		}
	}
	for _, series := range []string{"kiroku_rtp_forwarded_packets_total", "kiroku_rtp_received_packets_total",
		`kiroku_rtp_bytes_total{direction="forwarded"}`, `kiroku_keyframe_requests_total{reason="recorder"}`,
		`kiroku_webhook_requests_total{result="successful",type="auth"}`,
		`kiroku_webhook_duration_seconds_count{type="auth"}`} {
		if during.get(t, series) <= 0 {
			t.Errorf("during: %s = 0, want > 0", series)
		}
	}

	srv.api(t, "Sora_20231220.StopRecording", map[string]any{"channel_id": channel}, nil)
	hooks.waitHook(t, "recording.report", 30*time.Second, func(w webhook) bool { return w.data("recording_id") == rec.RecordingID })
	after := scrapeMetrics(t, srv.apiPort)
	for series, want := range map[string]float64{
		`kiroku_recordings`:                         0,
		`kiroku_archives_total{result="available"}`: 2,
		`kiroku_archives_total{result="failed"}`:    0,
		`kiroku_archive_finish_seconds_count`:       2,
	} {
		if got := after.get(t, series); got != want {
			t.Errorf("after: %s = %v, want %v", series, got, want)
		}
	}
	if d, f := during.get(t, "kiroku_rtp_forwarded_packets_total"), after.get(t, "kiroku_rtp_forwarded_packets_total"); f <= d {
		t.Errorf("forwarded packets %v after the stop, %v during: want more", f, d)
	}
}
