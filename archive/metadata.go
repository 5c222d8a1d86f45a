package archive

import (
	"encoding/json"
	"time"
)

// TimestampLayout is Sora's timestamp format: RFC 3339, UTC, microseconds.
const TimestampLayout = "2006-01-02T15:04:05.000000Z"

func timestamp(t time.Time) string { return t.UTC().Format(TimestampLayout) }

// Identity names a recorded connection; shared by every JSON file.
type Identity struct {
	RecordingID  string `json:"recording_id"`
	ChannelID    string `json:"channel_id"`
	SessionID    string `json:"session_id"`
	ClientID     string `json:"client_id"`
	BundleID     string `json:"bundle_id"`
	ConnectionID string `json:"connection_id"`
	Label        string `json:"label"`
	NodeName     string `json:"node_name"`
}

// Media describes a connection's codecs, as Sora's archive JSON does.
type Media struct {
	Audio          bool            `json:"audio"`
	AudioCodecType string          `json:"audio_codec_type,omitempty"`
	Video          bool            `json:"video"`
	VideoCodecType string          `json:"video_codec_type,omitempty"`
	VideoBitRate   int             `json:"video_bit_rate,omitempty"`
	VideoVP9Params json.RawMessage `json:"video_vp9_params,omitempty"`
	VideoAV1Params json.RawMessage `json:"video_av1_params,omitempty"`
	VideoH264Param json.RawMessage `json:"video_h264_params,omitempty"`
}

// Span is when a file's recording started and stopped: unix seconds,
// RFC 3339 µs timestamps and whole seconds since StartRecording.
type Span struct {
	StartTime       int64  `json:"start_time"`
	StartTimeOffset int64  `json:"start_time_offset"`
	StartTimestamp  string `json:"start_timestamp"`
	StopTime        int64  `json:"stop_time"`
	StopTimeOffset  int64  `json:"stop_time_offset"`
	StopTimestamp   string `json:"stop_timestamp"`
}

// NewSpan computes a Span for a file recorded from start to stop, in a
// recording accepted at recordingStart.
func NewSpan(recordingStart, start, stop time.Time) Span {
	return Span{
		StartTime: start.Unix(), StartTimeOffset: offsetSeconds(recordingStart, start), StartTimestamp: timestamp(start),
		StopTime: stop.Unix(), StopTimeOffset: offsetSeconds(recordingStart, stop), StopTimestamp: timestamp(stop),
	}
}

// offsetSeconds is seconds from base to t rounded to the nearest whole
// second (Sora's examples: 16.64 s reads 17), never negative.
func offsetSeconds(base, t time.Time) int64 {
	if t.Before(base) {
		return 0
	}
	return int64(t.Sub(base).Round(time.Second) / time.Second)
}

// FileRef locates a media file and its JSON, absolute and relative to
// archive_dir.
type FileRef struct {
	FilePath         string `json:"file_path"`
	Filename         string `json:"filename"`
	MetadataFilePath string `json:"metadata_file_path"`
	MetadataFilename string `json:"metadata_filename"`
	Size             int64  `json:"size"`
}

// GapStat is one gap in a file, in kiroku's stats object.
type GapStat struct {
	Kind       string `json:"kind"`
	OffsetMS   int64  `json:"offset_ms"`
	DurationMS int64  `json:"duration_ms"`
	Cause      string `json:"cause"`
	Frames     int    `json:"dropped_frames"`
}

// Stats is kiroku's `stats` object in archive JSON and archive webhooks.
type Stats struct {
	PacketsReceived   int       `json:"packets_received"`
	PacketsLost       int       `json:"packets_lost"`
	PacketsRecovered  int       `json:"packets_recovered"`
	PacketsDropped    int       `json:"packets_dropped"` // by the recorder falling behind
	FramesWritten     int       `json:"frames_written"`
	FramesDropped     int       `json:"frames_dropped"`
	VideoFrames       int       `json:"video_frames"`
	AudioFrames       int       `json:"audio_frames"`
	Keyframes         int       `json:"keyframes"`
	DurationMS        int64     `json:"duration_ms"`
	Gaps              []GapStat `json:"gaps"`
	KeyframeRequests  int       `json:"keyframe_requests"`
	KeyframeWaits     int       `json:"keyframe_waits"`
	ResolutionChanges int       `json:"resolution_changes"`
	// SimulcastLayerChanges counts, for a simulcast publisher, the
	// times the recording moved to another layer (the highest paused
	// or came back); each move starts at a keyframe.
	SimulcastLayerChanges int `json:"simulcast_layer_changes"`
	// VideoFailure is set when the connection announced video that never
	// started by the end of this file (or lost more frames to the codec
	// than it wrote): "no_packets", "no_keyframe", "no_parameter_sets" or
	// "unsupported_stream". The file then holds the audio alone.
	VideoFailure string `json:"video_failure,omitempty"`
}

// ArchiveMetadata is archive-<cid>.json and split-archive-<cid>_<n>.json.
type ArchiveMetadata struct {
	Identity
	Media
	FileRef
	Span
	CreatedAt     int64           `json:"created_at"`
	Format        Format          `json:"format"`
	SplitIndex    string          `json:"split_index,omitempty"`
	VideoWidth    int             `json:"video_width,omitempty"`
	VideoHeight   int             `json:"video_height,omitempty"`
	EventMetadata json.RawMessage `json:"event_metadata,omitempty"`
	Stats         Stats           `json:"stats"`
	// Recovered marks a file finished after a crash; RecoveredDurationMS is
	// how much media it holds.
	Recovered           bool  `json:"recovered,omitempty"`
	RecoveredDurationMS int64 `json:"recovered_duration_ms,omitempty"`
}

// SplitEndMetadata is split-archive-end-<cid>.json; file_path/filename
// point at the end JSON itself.
type SplitEndMetadata struct {
	Identity
	Media
	Span
	FilePath       string          `json:"file_path"`
	Filename       string          `json:"filename"`
	SplitLastIndex string          `json:"split_last_index"`
	Format         Format          `json:"format"`
	EventMetadata  json.RawMessage `json:"event_metadata,omitempty"`
	Stats          Stats           `json:"stats"`
}

// ReportArchive is one connection's entry in the report. Which fields are
// present depends on the output mode: single files give the file fields,
// split-only gives split_last_index, dual output gives both.
type ReportArchive struct {
	ClientID         string `json:"client_id"`
	BundleID         string `json:"bundle_id"`
	ConnectionID     string `json:"connection_id"`
	FilePath         string `json:"file_path,omitempty"`
	Filename         string `json:"filename,omitempty"`
	MetadataFilePath string `json:"metadata_file_path,omitempty"`
	MetadataFilename string `json:"metadata_filename,omitempty"`
	Size             *int64 `json:"size,omitempty"`
	SplitLastIndex   string `json:"split_last_index,omitempty"`
	StartTimeOffset  int64  `json:"start_time_offset"`
	StartTimestamp   string `json:"start_timestamp"`
	StopTimeOffset   int64  `json:"stop_time_offset"`
	StopTimestamp    string `json:"stop_timestamp"`
	Label            string `json:"label"`
	NodeName         string `json:"node_name"`
}

// FailedArchive names a connection whose file could not be written.
type FailedArchive struct {
	ClientID     string `json:"client_id"`
	BundleID     string `json:"bundle_id"`
	ConnectionID string `json:"connection_id"`
	Reason       string `json:"reason"`
	Label        string `json:"label"`
	NodeName     string `json:"node_name"`
}

// ReportMetadata is report-<recording_id>.json.
type ReportMetadata struct {
	RecordingID       string          `json:"recording_id"`
	ChannelID         string          `json:"channel_id"`
	SessionID         string          `json:"session_id"`
	CreatedAt         int64           `json:"created_at"`
	ExpireTime        int64           `json:"expire_time"`
	ExpiredAt         int64           `json:"expired_at,omitempty"`
	FilePath          string          `json:"file_path"`
	Filename          string          `json:"filename"`
	RecordingMetadata json.RawMessage `json:"recording_metadata,omitempty"`
	SplitOnly         bool            `json:"split_only"`
	SplitDuration     int64           `json:"split_duration,omitempty"`
	StartTimestamp    string          `json:"start_timestamp"`
	StopTimestamp     string          `json:"stop_timestamp"`
	Label             string          `json:"label"`
	NodeName          string          `json:"node_name"`
	Format            Format          `json:"format"`
	Archives          []ReportArchive `json:"archives"`
	FailedArchives    []FailedArchive `json:"failed_archives"`
}
