package archive

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

//go:embed schema/*.schema.json
var schemas embed.FS

// Schema returns the JSON schema of a recording file: "archive" (single
// and split JSON), "split-archive-end" or "report".
func Schema(name string) ([]byte, error) {
	b, err := schemas.ReadFile("schema/" + name + ".schema.json")
	if err != nil {
		return nil, fmt.Errorf("archive: schema %q: %w", name, err)
	}
	return b, nil
}

// VerifyOptions configure Verify.
type VerifyOptions struct {
	// ValidateJSON checks doc against the named Schema and returns the
	// violations; nil skips schema validation (the other checks still run).
	ValidateJSON func(schema string, doc []byte) []string
}

// VerifyRow is one file of a verified recording directory.
type VerifyRow struct {
	Name        string
	Kind        string // "archive", "split", "split-end", "report", "other"
	Format      Format
	Size        int64
	Duration    time.Duration
	VideoFrames int
	AudioFrames int
	Problems    []string
}

// Verification is the result of Verify.
type Verification struct {
	Dir  string
	Rows []VerifyRow
}

// OK reports whether no file has a problem.
func (v *Verification) OK() bool {
	for _, r := range v.Rows {
		if len(r.Problems) > 0 {
			return false
		}
	}
	return len(v.Rows) > 0
}

// verifier holds the state of one Verify run.
type verifier struct {
	dir, rid string
	opts     VerifyOptions
	rows     map[string]*VerifyRow
	files    map[string]bool
}

// Verify checks a recording directory (archive_dir/<recording_id>): every
// media file has its JSON and every JSON its media file, each JSON is well
// formed, names this recording and matches its file's size, the report
// lists every archive and nothing else, split series are complete, and
// each media file is read through with kiroku's own reader (format
// detected, whole structure scanned, nothing left unfinished).
func Verify(dir string, o VerifyOptions) (*Verification, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("archive: verify: %w", err)
	}
	v := &verifier{dir: dir, rid: filepath.Base(filepath.Clean(dir)), opts: o, rows: map[string]*VerifyRow{}, files: map[string]bool{}}
	for _, e := range entries {
		v.files[e.Name()] = !e.IsDir()
	}
	for name := range v.files {
		v.check(name)
	}
	v.checkReport()
	out := &Verification{Dir: dir}
	for _, r := range v.rows {
		out.Rows = append(out.Rows, *r)
	}
	sort.Slice(out.Rows, func(i, j int) bool { return out.Rows[i].Name < out.Rows[j].Name })
	return out, nil
}

func (v *verifier) row(name, kind string) *VerifyRow {
	r := v.rows[name]
	if r == nil {
		r = &VerifyRow{Name: name, Kind: kind}
		v.rows[name] = r
	}
	return r
}

func (r *VerifyRow) problem(format string, args ...any) {
	r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
}

// check dispatches on the file's name.
func (v *verifier) check(name string) {
	ext := filepath.Ext(name)
	stem := strings.TrimSuffix(name, ext)
	switch {
	case !v.files[name]:
		v.row(name, "other").problem("unexpected directory")
	case strings.HasPrefix(name, "report-") && ext == ".json":
		// checked with the whole directory in checkReport
	case strings.HasPrefix(name, "split-archive-end-") && ext == ".json":
		v.checkSplitEnd(name)
	case (ext == ".mp4" || ext == ".webm") && strings.Contains(name, "archive-"):
		v.checkMedia(name, stem)
	case ext == ".json" && strings.Contains(name, "archive-"):
		if !v.files[stem+".mp4"] && !v.files[stem+".webm"] {
			v.row(name, kindOf(name)).problem("JSON without its media file")
		}
	default:
		v.row(name, "other").problem("not a recording file (a leftover of an interrupted write?)")
	}
}

func kindOf(name string) string {
	if strings.HasPrefix(name, "split-") {
		return "split"
	}
	return "archive"
}

// checkMedia reads a media file and checks its JSON.
func (v *verifier) checkMedia(name, stem string) {
	r := v.row(name, kindOf(name))
	st, format, err := readMedia(filepath.Join(v.dir, name))
	r.Format, r.Duration, r.VideoFrames, r.AudioFrames = format, st.Duration, st.VideoFrames, st.AudioFrames
	if fi, serr := os.Stat(filepath.Join(v.dir, name)); serr == nil {
		r.Size = fi.Size()
	}
	if err != nil {
		r.problem("unreadable: %v", err)
	} else if st.VideoFrames+st.AudioFrames == 0 {
		r.problem("holds no media")
	}
	if "."+string(format) != filepath.Ext(name) && err == nil {
		r.problem("a %s file named %s", format, filepath.Ext(name))
	}
	if !v.files[stem+".json"] {
		r.problem("no %s.json beside it", stem)
		return
	}
	var meta ArchiveMetadata
	if !v.decode(r, stem+".json", "archive", &meta) {
		return
	}
	v.checkMeta(r, name, stem, meta)
}

// checkMeta compares a media file with its JSON.
func (v *verifier) checkMeta(r *VerifyRow, name, stem string, meta ArchiveMetadata) {
	n := Names{ArchiveDir: filepath.Dir(filepath.Clean(v.dir)), RecordingID: v.rid}
	switch {
	case meta.RecordingID != v.rid:
		r.problem("JSON recording_id %q in directory %q", meta.RecordingID, v.rid)
	case meta.Filename != n.Rel(name) || meta.MetadataFilename != n.Rel(stem+".json"):
		r.problem("JSON filename %q / metadata_filename %q do not name this file", meta.Filename, meta.MetadataFilename)
	case meta.Size != r.Size:
		r.problem("JSON size %d, file size %d", meta.Size, r.Size)
	case meta.Format != r.Format && r.Format != "":
		r.problem("JSON format %q, file is %s", meta.Format, r.Format)
	case (meta.SplitIndex != "") != strings.HasPrefix(name, "split-"):
		r.problem("split_index %q on %s", meta.SplitIndex, name)
	}
}

// decode reads a JSON file strictly and validates it against its schema.
func (v *verifier) decode(r *VerifyRow, name, schema string, dst any) bool {
	b, err := os.ReadFile(filepath.Join(v.dir, name))
	if err != nil {
		r.problem("%s: %v", name, err)
		return false
	}
	if v.opts.ValidateJSON != nil {
		for _, e := range v.opts.ValidateJSON(schema, b) {
			r.problem("%s: schema: %s", name, e)
		}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		r.problem("%s: %v", name, err)
		return false
	}
	return true
}
