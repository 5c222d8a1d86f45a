package archive

import (
	"encoding/json"
	"fmt"
)

// startedEvent is archive.started's data.
type startedEvent struct {
	Identity
	Media
	CreatedAt       int64  `json:"created_at"`
	StartTime       int64  `json:"start_time"`
	StartTimeOffset int64  `json:"start_time_offset"`
	StartTimestamp  string `json:"start_timestamp"`
}

// failedEvent is archive.failed's data.
type failedEvent struct {
	Identity
	Media
	FilePath       string `json:"file_path"`
	Filename       string `json:"filename"`
	StartTime      int64  `json:"start_time"`
	StartTimestamp string `json:"start_timestamp"`
	StopTime       int64  `json:"stop_time"`
	StopTimestamp  string `json:"stop_timestamp"`
	Reason         string `json:"reason"`
	Stats          Stats  `json:"stats"`
}

func (r *Recorder) notify(typ string, data any) {
	r.plan.notifier.Event(typ, r.conn, r.plan.channelID, r.plan.sessionID, data)
}

func (r *Recorder) notifyStarted() {
	now := r.plan.clock.Now()
	r.started = now
	s := NewSpan(r.plan.start, now, now)
	r.notify("archive.started", startedEvent{Identity: r.metaBase().Identity, Media: r.media,
		CreatedAt: now.Unix(), StartTime: s.StartTime, StartTimeOffset: s.StartTimeOffset, StartTimestamp: s.StartTimestamp})
}

// failNow ends a recorder that could not start.
func (r *Recorder) failNow(err error) {
	r.plan.logger.Warn("connection not recorded", "connection_id", r.conn.ConnectionID, "err", err)
	r.started = r.plan.clock.Now()
	r.fail(err.Error(), Stats{Gaps: []GapStat{}})
	close(r.done)
}

// fail records the connection as failed and sends archive.failed.
func (r *Recorder) fail(reason string, stats Stats) {
	p := r.plan
	now := p.clock.Now()
	id := r.metaBase().Identity
	name := ArchiveMedia(r.conn.ConnectionID, p.opts.Format)
	r.result = connResult{failed: &FailedArchive{ClientID: id.ClientID, BundleID: id.BundleID,
		ConnectionID: id.ConnectionID, Reason: reason, Label: id.Label, NodeName: id.NodeName}}
	r.notify("archive.failed", failedEvent{Identity: id, Media: r.media,
		FilePath: p.names().Abs(name), Filename: p.names().Rel(name),
		StartTime: r.started.Unix(), StartTimestamp: timestamp(r.started),
		StopTime: now.Unix(), StopTimestamp: timestamp(now), Reason: reason, Stats: stats})
}

// finish closes the outputs, delivers the last files and the split end
// JSON, and works out the connection's entry in the report.
func (r *Recorder) finish() {
	if d := r.sub.Dropped(); d > 0 {
		r.plan.logger.Warn("media dropped before the recorder", "connection_id", r.conn.ConnectionID, "dropped", d)
	}
	var total Stats
	ra := ReportArchive{ClientID: r.conn.ClientID, BundleID: r.conn.BundleID, ConnectionID: r.conn.ConnectionID,
		Label: r.plan.cfg.Label, NodeName: r.plan.cfg.NodeName}
	var first, last *ArchiveMetadata
	for _, o := range r.outputs {
		o.close()
		if len(o.delivered) == 0 {
			continue
		}
		f, l := &o.delivered[0], &o.delivered[len(o.delivered)-1]
		if first == nil || !o.split {
			first, last = f, l
		}
		if o.split {
			ra.SplitLastIndex = l.SplitIndex
			total = r.splitEnd(o.delivered)
			continue
		}
		size := l.Size
		ra.FilePath, ra.Filename, ra.MetadataFilePath, ra.MetadataFilename, ra.Size = l.FilePath, l.Filename, l.MetadataFilePath, l.MetadataFilename, &size
		total = l.Stats
	}
	if first == nil {
		r.fail("no media was recorded", total)
		return
	}
	ra.StartTimeOffset, ra.StartTimestamp = first.StartTimeOffset, first.StartTimestamp
	ra.StopTimeOffset, ra.StopTimestamp = last.StopTimeOffset, last.StopTimestamp
	r.result = connResult{archive: &ra}
}

// splitEnd writes split-archive-end-<cid>.json and sends split-archive.end;
// it returns the series' summed stats.
func (r *Recorder) splitEnd(parts []ArchiveMetadata) Stats {
	n := r.plan.names()
	first, last := parts[0], parts[len(parts)-1]
	end := SplitEndMetadata{Identity: first.Identity, Media: first.Media, Format: first.Format,
		EventMetadata: first.EventMetadata, SplitLastIndex: last.SplitIndex,
		FilePath: n.Abs(SplitEnd(r.conn.ConnectionID)), Filename: n.Rel(SplitEnd(r.conn.ConnectionID)),
		Span: Span{StartTime: first.StartTime, StartTimeOffset: first.StartTimeOffset, StartTimestamp: first.StartTimestamp,
			StopTime: last.StopTime, StopTimeOffset: last.StopTimeOffset, StopTimestamp: last.StopTimestamp}}
	end.Stats = Stats{Gaps: []GapStat{}}
	for _, p := range parts {
		end.Stats = addStats(end.Stats, p.Stats)
	}
	b, err := json.MarshalIndent(end, "", "  ")
	if err == nil {
		err = writeFileAtomic(end.FilePath, b)
	}
	if err != nil {
		r.plan.logger.Error("split end JSON not written", "connection_id", r.conn.ConnectionID, "err", fmt.Errorf("archive: split end: %w", err))
	}
	r.notify("split-archive.end", end)
	return end.Stats
}

// addStats sums b into a.
func addStats(a, b Stats) Stats {
	a.PacketsReceived += b.PacketsReceived
	a.PacketsLost += b.PacketsLost
	a.PacketsRecovered += b.PacketsRecovered
	a.PacketsDropped += b.PacketsDropped
	a.FramesWritten += b.FramesWritten
	a.FramesDropped += b.FramesDropped
	a.VideoFrames += b.VideoFrames
	a.AudioFrames += b.AudioFrames
	a.Keyframes += b.Keyframes
	a.DurationMS += b.DurationMS
	a.Gaps = append(a.Gaps, b.Gaps...)
	a.KeyframeRequests += b.KeyframeRequests
	a.KeyframeWaits += b.KeyframeWaits
	a.ResolutionChanges += b.ResolutionChanges
	return a
}
