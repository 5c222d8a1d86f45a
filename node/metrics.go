package node

import (
	"net/http"
	"sync"

	"github.com/kiroku-sfu/kiroku/archive"
	"github.com/kiroku-sfu/kiroku/metrics"
	"github.com/kiroku-sfu/kiroku/sfu"
	"github.com/kiroku-sfu/kiroku/webhooks"
)

// apiHandler serves the HTTP API and, beside it, GET /metrics.
func (c *components) apiHandler() (http.Handler, error) {
	m, err := metrics.NewHandler(newSnapshotter(c))
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle(metrics.Path, m)
	mux.Handle("/", c.api)
	return mux, nil
}

// newSnapshotter reads the components' counters for one scrape. It is
// safe for concurrent scrapes.
func newSnapshotter(c *components) func() metrics.Snapshot {
	var viewer monotonic
	return func() metrics.Snapshot {
		st, sg, ac := c.core.Stats(), c.sig.Stats(), c.rec.Counters()
		s := metrics.Snapshot{
			Connections: map[string]float64{}, Sessions: float64(st.OngoingSessions),
			ConnectionsTotal: map[string]float64{"created": float64(st.ConnectionsCreated),
				"established": float64(sg.Established), "rejected": float64(st.ConnectionsRejected),
				"failed": float64(sg.Rejected)},
			RTPReceivedPackets: float64(st.ReceivedRTPPackets), RTPForwardedPackets: float64(st.ForwardedRTPPackets),
			RTPBytes:            map[string]float64{"received": float64(st.ReceivedRTPBytes), "forwarded": float64(st.ForwardedRTPBytes)},
			NACKRetransmissions: float64(st.NACKRetransmissions),
			PLIsSent:            float64(st.KeyframeRequests), MalformedPackets: float64(st.MalformedPackets),
			SinkDropped: float64(st.SinkDropped),
			SpotlightChanges: map[string]float64{"focused": float64(st.SpotlightFocused),
				"unfocused": float64(st.SpotlightUnfocused)},
		}
		for role, n := range c.core.ConnectionsByRole() {
			s.Connections[string(role)] = float64(n)
		}
		s.KeyframeRequests = keyframeRequests(st, ac, &viewer)
		addRecording(&s, ac)
		addWebhooks(&s, c.hooks.Stats())
		return s
	}
}

// keyframeRequests splits the SFU's keyframe requests by who asked:
// recorders count theirs (split ones apart); the rest came from viewers
// or were made for them (a new viewer, a layer switch).
func keyframeRequests(st sfu.Stats, ac archive.Counters, viewer *monotonic) map[string]float64 {
	recorders := ac.KeyframeRecord + ac.KeyframeSplit
	asked := st.KeyframeRequests + st.KeyframeDeferred
	v := uint64(0)
	if asked > recorders {
		v = asked - recorders
	}
	return map[string]float64{"viewer": float64(viewer.at(v)), "recorder": float64(ac.KeyframeRecord),
		"split": float64(ac.KeyframeSplit)}
}

// addRecording fills the recording families.
func addRecording(s *metrics.Snapshot, ac archive.Counters) {
	s.Recordings = float64(ac.Recordings)
	s.Archives = map[string]float64{"available": float64(ac.ArchivesOK), "failed": float64(ac.ArchivesFailed)}
	s.VideoFailures = map[string]float64{}
	for cause, n := range ac.VideoFailures {
		s.VideoFailures[cause] = float64(n)
	}
	s.RecordingGaps = map[metrics.GapLabels]float64{}
	for k, n := range ac.Gaps {
		s.RecordingGaps[metrics.GapLabels{Kind: k.Kind, Cause: k.Cause}] = float64(n)
	}
	s.RecorderQueueDropped = float64(ac.QueueDropped)
	s.ArchiveFinish = metrics.Histogram(ac.Finish)
}

// addWebhooks fills the webhook families.
func addWebhooks(s *metrics.Snapshot, ws *webhooks.Stats) {
	s.WebhookRequests = map[metrics.WebhookLabels]float64{}
	s.WebhookDurations = map[string]metrics.Histogram{}
	for _, kind := range []webhooks.Kind{webhooks.Auth, webhooks.Session, webhooks.Event} {
		c, t := ws.Snapshot(kind), string(kind)
		for result, n := range map[string]int64{"successful": c.Successful, "failed": c.Failed,
			"ignored": c.Ignored, "dropped": c.Dropped} {
			s.WebhookRequests[metrics.WebhookLabels{Type: t, Result: result}] = float64(n)
		}
		s.WebhookDurations[t] = metrics.Histogram(ws.DurationsOf(kind))
	}
}

// monotonic keeps a derived counter from going backwards when its parts
// are read at slightly different moments.
type monotonic struct {
	mu   sync.Mutex
	last uint64
}

func (m *monotonic) at(v uint64) uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.last = max(m.last, v)
	return m.last
}
