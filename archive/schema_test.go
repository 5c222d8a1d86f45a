package archive

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/kiroku-sfu/kiroku/archive/jsonschema"
)

// validateAgainst fails the test when doc violates schema/<name>.schema.json.
func validateAgainst(t *testing.T, name string, doc any) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("schema", name+".schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := jsonschema.Compile(raw)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range s.Validate(b) {
		t.Errorf("%s: %s", name, e)
	}
}

func TestSchemasAcceptOurDocumentsAndRejectBrokenOnes(t *testing.T) {
	m := sampleArchive()
	validateAgainst(t, "archive", m)
	m.SplitIndex = "0001"
	m.Filename = "R1/split-archive-C1_0001.mp4"
	validateAgainst(t, "archive", m)

	end := SplitEndMetadata{Identity: m.Identity, Media: m.Media, Span: m.Span,
		FilePath: "/a/R1/split-archive-end-C1.json", Filename: "R1/split-archive-end-C1.json",
		SplitLastIndex: "0002", Format: FormatMP4}
	validateAgainst(t, "split-archive-end", end)

	size := int64(10)
	report := ReportMetadata{RecordingID: "R1", ChannelID: "sora", SessionID: "S1", CreatedAt: 1, ExpireTime: 3600,
		FilePath: "/a/R1/report-R1.json", Filename: "R1/report-R1.json", StartTimestamp: m.StartTimestamp,
		StopTimestamp: m.StopTimestamp, Label: "WebRTC SFU Sora", NodeName: "n", Format: FormatWebM,
		Archives: []ReportArchive{{ClientID: "c", BundleID: "b", ConnectionID: "C1", Filename: "R1/archive-C1.webm",
			FilePath: "/a/R1/archive-C1.webm", Size: &size, StartTimestamp: m.StartTimestamp, StopTimestamp: m.StopTimestamp,
			Label: "l", NodeName: "n"}},
		FailedArchives: []FailedArchive{}}
	validateAgainst(t, "report", report)

	// A broken document must fail: the schema is not a rubber stamp.
	raw, _ := os.ReadFile(filepath.Join("schema", "archive.schema.json"))
	s, _ := jsonschema.Compile(raw)
	bad := sampleArchive()
	bad.Filename = "/abs/archive-C1.mp4"
	bad.StartTimestamp = "2021-03-12 04:42:17"
	b, _ := json.Marshal(bad)
	if errs := s.Validate(b); len(errs) != 2 {
		t.Errorf("broken archive JSON: errors %q, want 2", errs)
	}
}

func sampleArchive() ArchiveMetadata {
	return ArchiveMetadata{
		Identity: Identity{RecordingID: "R1", ChannelID: "sora", SessionID: "S1", ClientID: "c", BundleID: "b",
			ConnectionID: "C1", Label: "WebRTC SFU Sora", NodeName: "n"},
		Media: Media{Audio: true, AudioCodecType: "OPUS", Video: true, VideoCodecType: "VP8"},
		FileRef: FileRef{FilePath: "/a/R1/archive-C1.mp4", Filename: "R1/archive-C1.mp4",
			MetadataFilePath: "/a/R1/archive-C1.json", MetadataFilename: "R1/archive-C1.json", Size: 5},
		Span: Span{StartTime: 1, StartTimestamp: "2021-03-12T04:42:17.455668Z", StopTime: 2,
			StopTimestamp: "2021-03-12T04:42:34.094375Z", StopTimeOffset: 17},
		CreatedAt: 2, Format: FormatMP4,
		Stats: Stats{Gaps: []GapStat{{Kind: "video", OffsetMS: 10, DurationMS: 5, Cause: "loss", Frames: 1}}},
	}
}
