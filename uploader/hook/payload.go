package hook

import (
	"encoding/json"
	"time"

	"github.com/kiroku-sfu/kiroku/uploader/scan"
)

// payload builds an event body with the fields sora-archive-uploader sends
// for its kind.
func (s *Sender) payload(ev Event, typ string) map[string]any {
	m := ev.Meta
	p := map[string]any{
		"id":           newID(),
		"type":         typ,
		"timestamp":    s.now().UTC().Format(time.RFC3339Nano),
		"recording_id": m.RecordingID,
		"channel_id":   m.ChannelID,
		"filename":     ev.FileName,
		"file_url":     ev.FileURL,
	}
	if ev.Kind == scan.Report {
		if meta := m.WebhookRecordingMetadata(); len(meta) > 0 && !s.cfg.ExcludeRecordingMetadata {
			p["recording_metadata"] = json.RawMessage(meta)
		}
		if len(ev.StrayFiles) > 0 {
			p["stray_files"] = ev.StrayFiles
		}
		return p
	}
	p["session_id"] = m.SessionID
	p["client_id"] = m.ClientID
	p["connection_id"] = m.ConnectionID
	if ev.Kind == scan.Archive || ev.Kind == scan.Split {
		p["metadata_filename"] = ev.MetadataFileName
		p["metadata_file_url"] = ev.MetadataFileURL
	}
	return p
}
