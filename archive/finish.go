package archive

import (
	"encoding/json"
	"fmt"
)

// finish closes the outputs, delivers the last files and the split end
// JSON, and works out the connection's entry in the report.
func (r *Recorder) finish() {
	began := r.plan.clock.Now()
	var total Stats
	defer func() { r.plan.counters.finished(r.plan.clock.Now().Sub(began), total.VideoFailure) }()
	if d, h := r.sub.Dropped(), r.dropped.Load(); d > 0 || h > 0 {
		r.plan.logger.Warn("media dropped while recording", "connection_id", r.conn.ConnectionID,
			"dropped_by_sfu", d, "dropped_by_recorder", h)
	}
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
	if b.VideoFailure != "" {
		a.VideoFailure = b.VideoFailure
	}
	return a
}
