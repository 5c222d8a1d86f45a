package archive

import (
	"log/slog"
	"time"
)

// plan is what every recorder of one recording shares: its identity, its
// resolved settings and the engine's collaborators.
type plan struct {
	cfg       Config
	id        string
	channelID string
	sessionID string
	start     time.Time // StartRecording accepted
	opts      Options   // resolved: format filled in
	out       Output

	clock    Clock
	logger   *slog.Logger
	notifier Notifier
	queue    int           // per-recorder hand-off size
	pace     time.Duration // per-recorder write pace
	counters *counters
}

func (p *plan) names() Names { return Names{ArchiveDir: p.cfg.ArchiveDir, RecordingID: p.id} }

func (p *plan) splitDuration() time.Duration {
	return time.Duration(p.opts.SplitDuration) * time.Second
}
