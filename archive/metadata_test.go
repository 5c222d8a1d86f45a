package archive

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestArchiveMetadataFields checks the archive JSON field by field against
// Sora's documented example: names, types and the relative filename rule.
func TestArchiveMetadataFields(t *testing.T) {
	start := time.Date(2021, 3, 12, 4, 42, 10, 455668000, time.UTC)
	fileStart := start.Add(7 * time.Second)
	stop := start.Add(24*time.Second + 638707*time.Microsecond)
	n := Names{ArchiveDir: "/path/to/sora/archive", RecordingID: "R1"}
	m := ArchiveMetadata{
		Identity: Identity{RecordingID: "R1", ChannelID: "sora", SessionID: "S1", ClientID: "CL", BundleID: "B",
			ConnectionID: "C1", Label: "WebRTC SFU Sora", NodeName: "kiroku@127.0.0.1"},
		Media: Media{Audio: true, AudioCodecType: "OPUS", Video: true, VideoCodecType: "VP9", VideoBitRate: 1000,
			VideoVP9Params: json.RawMessage(`{"profile_id":0}`)},
		FileRef: FileRef{FilePath: n.Abs(ArchiveMedia("C1", FormatMP4)), Filename: n.Rel(ArchiveMedia("C1", FormatMP4)),
			MetadataFilePath: n.Abs(ArchiveMeta("C1")), MetadataFilename: n.Rel(ArchiveMeta("C1")), Size: 1234},
		Span:      NewSpan(start, fileStart, stop),
		CreatedAt: stop.Unix(), Format: FormatMP4, VideoWidth: 640, VideoHeight: 480,
		EventMetadata: json.RawMessage(`{"spam":"egg"}`),
	}
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"audio": true, "audio_codec_type": "OPUS", "channel_id": "sora", "session_id": "S1", "client_id": "CL",
		"bundle_id": "B", "connection_id": "C1", "created_at": float64(stop.Unix()),
		"file_path":          "/path/to/sora/archive/R1/archive-C1.mp4",
		"filename":           "R1/archive-C1.mp4",
		"metadata_file_path": "/path/to/sora/archive/R1/archive-C1.json",
		"metadata_filename":  "R1/archive-C1.json",
		"recording_id":       "R1", "size": float64(1234),
		"start_time": float64(fileStart.Unix()), "start_time_offset": float64(7),
		"start_timestamp": "2021-03-12T04:42:17.455668Z",
		"stop_time":       float64(stop.Unix()), "stop_time_offset": float64(25),
		"stop_timestamp": "2021-03-12T04:42:35.094375Z",
		"label":          "WebRTC SFU Sora", "node_name": "kiroku@127.0.0.1",
		"video": true, "video_bit_rate": float64(1000), "video_codec_type": "VP9",
		"video_height": float64(480), "video_width": float64(640), "format": "mp4",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %#v, want %#v", k, got[k], v)
		}
	}
	if p, _ := got["video_vp9_params"].(map[string]any); p["profile_id"] != float64(0) {
		t.Errorf("video_vp9_params = %v", got["video_vp9_params"])
	}
	if e, _ := got["event_metadata"].(map[string]any); e["spam"] != "egg" {
		t.Errorf("event_metadata = %v", got["event_metadata"])
	}
	if _, ok := got["stats"].(map[string]any); !ok {
		t.Errorf("stats missing: %v", got["stats"])
	}
	for _, absent := range []string{"split_index", "recovered"} {
		if _, ok := got[absent]; ok {
			t.Errorf("%s present in a single, non-recovered archive JSON", absent)
		}
	}
}

func TestNewSpanOffsetsNeverNegative(t *testing.T) {
	base := time.Unix(1000, 0)
	s := NewSpan(base, base.Add(-2*time.Second), base.Add(1500*time.Millisecond))
	if s.StartTimeOffset != 0 || s.StopTimeOffset != 2 {
		t.Errorf("offsets = %d, %d", s.StartTimeOffset, s.StopTimeOffset)
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "archive-C1.json")
	if err := writeFileAtomic(path, []byte(`{"a":1}`)); err != nil {
		t.Fatal(err)
	}
	if err := writeFileAtomic(path, []byte(`{"a":2}`)); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil || string(b) != `{"a":2}` {
		t.Fatalf("read back %q, %v", b, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("leftover temporary files: %v", entries)
	}
	if err := writeFileAtomic(filepath.Join(dir, "missing", "x.json"), nil); err == nil {
		t.Error("write into a missing directory succeeded")
	}
}

func TestMoveFile(t *testing.T) {
	src := filepath.Join(t.TempDir(), "a.mp4")
	dstDir := t.TempDir()
	if err := os.WriteFile(src, []byte("media"), 0o644); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dstDir, "archive-C1.mp4")
	if err := moveFile(src, dst); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(dst); err != nil || string(b) != "media" {
		t.Fatalf("dst = %q, %v", b, err)
	}
	if _, err := os.Stat(src); !os.IsNotExist(err) {
		t.Errorf("src still there: %v", err)
	}
	if err := copyFile(dst, filepath.Join(dstDir, "copy.mp4")); err != nil {
		t.Fatal(err)
	}
}
