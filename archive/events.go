package archive

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
	p.counters.notDelivered()
	r.result = connResult{failed: &FailedArchive{ClientID: id.ClientID, BundleID: id.BundleID,
		ConnectionID: id.ConnectionID, Reason: reason, Label: id.Label, NodeName: id.NodeName}}
	r.notify("archive.failed", failedEvent{Identity: id, Media: r.media,
		FilePath: p.names().Abs(name), Filename: p.names().Rel(name),
		StartTime: r.started.Unix(), StartTimestamp: timestamp(r.started),
		StopTime: now.Unix(), StopTimestamp: timestamp(now), Reason: reason, Stats: stats})
}
