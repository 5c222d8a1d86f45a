package archive

import (
	"fmt"
	"path/filepath"
	"strconv"
)

// Format is a recording container format.
type Format string

// Recording formats, spelled as Sora's API and JSON spell them.
const (
	FormatWebM Format = "webm"
	FormatMP4  Format = "mp4"
)

// ParseFormat accepts "webm" or "mp4".
func ParseFormat(s string) (Format, error) {
	switch Format(s) {
	case FormatWebM, FormatMP4:
		return Format(s), nil
	}
	return "", fmt.Errorf("archive: format must be \"webm\" or \"mp4\", got %q", s)
}

// SplitIndex formats a split file's index as Sora does: 0001 … 9999, then
// 10000 and up without padding.
func SplitIndex(i int) string {
	if i >= 10000 {
		return strconv.Itoa(i)
	}
	return fmt.Sprintf("%04d", i)
}

// Names builds the file names of one recording, relative to archive_dir
// (as the JSON's filename fields are) and absolute.
type Names struct {
	ArchiveDir  string
	RecordingID string
}

// Rel returns name inside the recording's directory, relative to archive_dir.
func (n Names) Rel(name string) string { return n.RecordingID + "/" + name }

// Abs returns name inside the recording's directory as an absolute path.
func (n Names) Abs(name string) string {
	return filepath.Join(n.ArchiveDir, n.RecordingID, name)
}

// Dir is the recording's directory.
func (n Names) Dir() string { return filepath.Join(n.ArchiveDir, n.RecordingID) }

// ArchiveMedia is a connection's single file: archive-<cid>.<format>.
func ArchiveMedia(connectionID string, f Format) string {
	return "archive-" + connectionID + "." + string(f)
}

// ArchiveMeta is the single file's JSON: archive-<cid>.json.
func ArchiveMeta(connectionID string) string { return "archive-" + connectionID + ".json" }

// SplitMedia is one split file: split-archive-<cid>_<index>.<format>.
func SplitMedia(connectionID string, index int, f Format) string {
	return "split-archive-" + connectionID + "_" + SplitIndex(index) + "." + string(f)
}

// SplitMeta is one split file's JSON: split-archive-<cid>_<index>.json.
func SplitMeta(connectionID string, index int) string {
	return "split-archive-" + connectionID + "_" + SplitIndex(index) + ".json"
}

// SplitEnd is the JSON closing a connection's split series.
func SplitEnd(connectionID string) string { return "split-archive-end-" + connectionID + ".json" }

// Report is the recording's report: report-<recording_id>.json.
func Report(recordingID string) string { return "report-" + recordingID + ".json" }
