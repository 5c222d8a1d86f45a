package archive

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Info describes a running recording as StartRecording, GetSession and
// ListSessions show it.
type Info struct {
	RecordingID       string          `json:"recording_id"`
	ChannelID         string          `json:"channel_id"`
	SessionID         string          `json:"session_id"`
	RecordingMetadata json.RawMessage `json:"recording_metadata,omitempty"`
	ExpireTime        int64           `json:"expire_time"`
	ExpiredAt         int64           `json:"expired_at,omitempty"`
	SplitDuration     int64           `json:"split_duration,omitempty"`
	SplitOnly         bool            `json:"split_only"`
	StartTimestamp    string          `json:"start_timestamp"`
	Format            Format          `json:"format"`
	CreatedAt         int64           `json:"created_at"`
}

// recording is one session's recording: a recorder per connection.
type recording struct {
	plan      *plan
	recorders []*Recorder
	byConn    map[string]*Recorder
	stopTimer func() bool
	stopAt    time.Time
	expired   bool
}

func (r *recording) info() Info {
	p := r.plan
	in := Info{RecordingID: p.id, ChannelID: p.channelID, SessionID: p.sessionID,
		RecordingMetadata: p.opts.Metadata, ExpireTime: p.opts.ExpireTime, SplitDuration: p.opts.SplitDuration,
		SplitOnly: p.opts.SplitOnly, StartTimestamp: timestamp(p.start), Format: p.opts.Format, CreatedAt: p.start.Unix()}
	if p.opts.ExpireTime > 0 {
		in.ExpiredAt = p.start.Add(time.Duration(p.opts.ExpireTime) * time.Second).Unix()
	}
	return in
}

// add starts recording a connection unless it is blocked or recorded.
func (r *recording) add(c Connection, src Source) {
	if c.RecordingBlock || r.byConn[c.ConnectionID] != nil {
		return
	}
	rec := startRecorder(r.plan, c, src)
	r.byConn[c.ConnectionID] = rec
	r.recorders = append(r.recorders, rec)
}

// stop asks every recorder to finish.
func (r *recording) stop(at time.Time, expired bool) {
	r.stopAt, r.expired = at, expired
	if r.stopTimer != nil {
		r.stopTimer()
	}
	for _, rec := range r.recorders {
		rec.Stop()
	}
}

// finish waits for the recorders, writes the report and sends
// recording.report.
func (r *recording) finish() {
	rep := r.report()
	for _, rec := range r.recorders {
		<-rec.Done()
		switch res := rec.result; {
		case res.archive != nil:
			rep.Archives = append(rep.Archives, *res.archive)
		case res.failed != nil:
			rep.FailedArchives = append(rep.FailedArchives, *res.failed)
		}
	}
	p := r.plan
	if err := writeReport(rep); err != nil {
		p.logger.Error("recording report not written", "recording_id", p.id, "err", err)
	} else if err := os.Remove(recordingSidecar(p.cfg.TmpDir, p.id)); err != nil {
		p.logger.Warn("recording sidecar not removed", "recording_id", p.id, "err", err)
	}
	p.notifier.Session("recording.report", p.channelID, p.sessionID, reportEvent{ReportMetadata: rep, FileWritten: true})
}

// report is the report without its archives.
func (r *recording) report() ReportMetadata {
	p := r.plan
	in := r.info()
	n := p.names()
	return ReportMetadata{RecordingID: p.id, ChannelID: p.channelID, SessionID: p.sessionID,
		CreatedAt: in.CreatedAt, ExpireTime: in.ExpireTime, ExpiredAt: in.ExpiredAt,
		FilePath: n.Abs(Report(p.id)), Filename: n.Rel(Report(p.id)), RecordingMetadata: p.opts.Metadata,
		SplitOnly: p.opts.SplitOnly, SplitDuration: p.opts.SplitDuration, StartTimestamp: in.StartTimestamp,
		StopTimestamp: timestamp(r.stopAt), Label: p.cfg.Label, NodeName: p.cfg.NodeName, Format: p.opts.Format,
		Archives: []ReportArchive{}, FailedArchives: []FailedArchive{}}
}

// reportEvent is recording.report's data.
type reportEvent struct {
	ReportMetadata
	FileWritten bool `json:"file_written"`
}

func writeReport(rep ReportMetadata) error {
	if err := os.MkdirAll(filepath.Dir(rep.FilePath), 0o755); err != nil {
		return fmt.Errorf("archive: report dir: %w", err)
	}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return fmt.Errorf("archive: encode report: %w", err)
	}
	return writeFileAtomic(rep.FilePath, b)
}

// recordingSidecar is the tmp file that marks a recording in progress; it
// holds the report without archives so a crash can be reported.
func recordingSidecar(tmpDir, rid string) string {
	return filepath.Join(tmpDir, rid+".recording"+pendingSuffix)
}

// writeSidecar records the recording as in progress.
func (r *recording) writeSidecar() error {
	b, err := json.Marshal(r.report())
	if err != nil {
		return fmt.Errorf("archive: encode recording sidecar: %w", err)
	}
	return writeFileAtomic(recordingSidecar(r.plan.cfg.TmpDir, r.plan.id), b)
}
