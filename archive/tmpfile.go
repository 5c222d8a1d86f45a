package archive

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kiroku-sfu/kiroku/mux"
	"github.com/kiroku-sfu/kiroku/mux/remux"
)

// Files being written live in archive_tmp_dir as <recording_id>~<final
// name>, each with a <tmp name>.pending.json sidecar written before the
// first byte of media: everything needed to finish and deliver the file
// after a crash.
const (
	tmpSep        = "~"
	pendingSuffix = ".pending.json"
)

// tmpName is the name in archive_tmp_dir of final inside recording rid.
func tmpName(rid, final string) string { return rid + tmpSep + final }

// parseTmpName splits a tmp name back into recording id and final name;
// both must be plain names and final a media file of a recording.
func parseTmpName(name string) (rid, final string, ok bool) {
	rid, final, ok = strings.Cut(name, tmpSep)
	ext := filepath.Ext(final)
	return rid, final, ok && plainName(rid) && plainName(final) &&
		(strings.HasPrefix(final, "archive-") || strings.HasPrefix(final, "split-archive-")) &&
		(ext == "."+string(FormatMP4) || ext == "."+string(FormatWebM))
}

// plainName reports whether s is a usable file name on its own: not
// empty, not . or .., no separator.
func plainName(s string) bool {
	return s != "" && s != "." && s != ".." && !strings.ContainsAny(s, `/\`+"\x00")
}

// pendingFile is the sidecar of a media file being written.
type pendingFile struct {
	ArchiveDir     string          `json:"archive_dir"`
	RecordingStart time.Time       `json:"recording_start"`
	FileStart      time.Time       `json:"file_start"`
	Meta           ArchiveMetadata `json:"meta"`
}

// tmpFile is one media file being written and the writer on it. It
// notices video keyframes for the keyframe scheduler.
type tmpFile struct {
	mux.Writer
	f       *os.File
	path    string // in archive_tmp_dir
	final   string // file name inside the recording directory
	pending pendingFile
	onKey   func()
	frames  int
}

// createTmpFile writes the sidecar, then creates the media file and its
// writer.
func createTmpFile(tmpDir string, p pendingFile, final string, f Format, video, audio *mux.TrackInfo, o remux.WriterOptions) (*tmpFile, error) {
	path := filepath.Join(tmpDir, tmpName(p.Meta.RecordingID, final))
	side, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("archive: encode sidecar of %s: %w", path, err)
	}
	if err := writeFileAtomic(path+pendingSuffix, side); err != nil {
		return nil, err
	}
	file, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, fmt.Errorf("archive: create %s: %w", path, err)
	}
	w, err := remux.NewWriter(remux.Format(f), file, video, audio, o)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("archive: writer for %s: %w", path, err), file.Close())
	}
	return &tmpFile{Writer: w, f: file, path: path, final: final, pending: p}, nil
}

// WriteFrame writes a frame and reports video keyframes.
func (t *tmpFile) WriteFrame(k mux.Kind, f mux.Frame) error {
	if k == mux.Video && f.Keyframe && t.onKey != nil {
		t.onKey()
	}
	t.frames++
	return t.Writer.WriteFrame(k, f)
}

// Close finishes the writer and closes the file.
func (t *tmpFile) Close(end time.Duration) (mux.FileStats, error) {
	stats, err := t.Writer.Close(end)
	if cerr := t.f.Close(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("archive: close %s: %w", t.path, cerr))
	}
	return stats, err
}
