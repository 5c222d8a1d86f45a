package scan

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
)

// MaxJSONBytes bounds a metadata file; the recorder's are a few KiB.
const MaxJSONBytes = 4 << 20

// ErrBadMeta marks a metadata file that can never be uploaded as is.
var ErrBadMeta = errors.New("bad metadata file")

// Meta is what the uploader needs from an archive, split, split-end or
// report JSON.
type Meta struct {
	RecordingID      string `json:"recording_id"`
	ChannelID        string `json:"channel_id"`
	SessionID        string `json:"session_id"`
	ClientID         string `json:"client_id"`
	ConnectionID     string `json:"connection_id"`
	Filename         string `json:"filename"`
	MetadataFilename string `json:"metadata_filename"`
	// RecordingMetadata and Metadata are kept raw for the report webhook.
	RecordingMetadata json.RawMessage `json:"recording_metadata"`
	Metadata          json.RawMessage `json:"metadata"`
	// Archives and FailedArchives are a report's lists: what it references.
	Archives       []ReportArchive `json:"archives"`
	FailedArchives []ReportArchive `json:"failed_archives"`
}

// ReportArchive is what the uploader reads of one entry of a report's
// archives or failed_archives.
type ReportArchive struct {
	ConnectionID     string `json:"connection_id"`
	Filename         string `json:"filename"`
	MetadataFilename string `json:"metadata_filename"`
	SplitLastIndex   string `json:"split_last_index"`
}

// ReadMeta reads and parses one metadata file from r, reading at most
// MaxJSONBytes.
func ReadMeta(r io.Reader) (Meta, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxJSONBytes+1))
	if err != nil {
		return Meta{}, fmt.Errorf("read metadata: %w", err)
	}
	if len(b) > MaxJSONBytes {
		return Meta{}, fmt.Errorf("%w: larger than %d bytes", ErrBadMeta, MaxJSONBytes)
	}
	return ParseMeta(b)
}

// ParseMeta parses a metadata file's bytes.
func ParseMeta(b []byte) (Meta, error) {
	var m Meta
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&m); err != nil {
		return Meta{}, fmt.Errorf("%w: %w", ErrBadMeta, err)
	}
	if m.RecordingID == "" {
		return Meta{}, fmt.Errorf("%w: recording_id missing", ErrBadMeta)
	}
	return m, nil
}

// Check verifies that m belongs to job j: the same recording and, for
// connection files, the same connection.
func (m Meta) Check(j Job) error {
	if m.RecordingID != j.RecordingID {
		return fmt.Errorf("%w: recording_id %q in directory %q", ErrBadMeta, m.RecordingID, j.RecordingID)
	}
	if j.ConnectionID != "" && m.ConnectionID != j.ConnectionID {
		return fmt.Errorf("%w: connection_id %q in %s", ErrBadMeta, m.ConnectionID, j.JSONName)
	}
	return nil
}

// MediaName picks the media file of an Archive or Split job: the base name
// of the JSON's filename when it is one of the same-stem files present,
// else the only one present.
func (m Meta) MediaName(j Job) (string, error) {
	want := path.Base(m.Filename)
	for _, n := range j.Media {
		if n == want {
			return n, nil
		}
	}
	if m.Filename == "" && len(j.Media) == 1 {
		return j.Media[0], nil
	}
	return "", fmt.Errorf("%w: filename %q names no media beside %s", ErrBadMeta, m.Filename, j.JSONName)
}

// WebhookRecordingMetadata is the report's metadata as the report webhook
// carries it: recording_metadata when the report has a session_id (session
// recording), else the legacy metadata.
func (m Meta) WebhookRecordingMetadata() json.RawMessage {
	if m.SessionID != "" {
		return m.RecordingMetadata
	}
	return m.Metadata
}
