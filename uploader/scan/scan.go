// Package scan knows the layout the recorder writes into archive_dir and
// decides which files of a recording directory are ready to upload.
//
// A recording directory archive_dir/<recording_id>/ holds, per the
// recording layout:
//
//	archive-<cid>.{mp4,webm}          + archive-<cid>.json
//	split-archive-<cid>_<NNNN>.{mp4,webm} + split-archive-<cid>_<NNNN>.json
//	split-archive-end-<cid>.json
//	report-<recording_id>.json
//
// The recorder writes the media first and its JSON last, so a JSON next to a
// same-stem media file means both are complete. Plan turns a directory
// listing into the jobs that may start now; it touches no files.
package scan

import (
	"sort"
	"strings"
)

// Kind says which webhook and ordering rule a job follows.
type Kind int

// The job kinds, one per JSON file type.
const (
	Archive  Kind = iota + 1 // archive-<cid>.json with its media
	Split                    // split-archive-<cid>_<NNNN>.json with its media
	SplitEnd                 // split-archive-end-<cid>.json alone
	Report                   // report-<recording_id>.json, after everything else
)

// String names the kind as it appears in logs and metrics.
func (k Kind) String() string {
	switch k {
	case Archive:
		return "archive"
	case Split:
		return "split-archive"
	case SplitEnd:
		return "split-archive-end"
	case Report:
		return "report"
	}
	return "unknown"
}

// MediaExts are the media extensions the recorder writes, in preference order.
var mediaExts = [...]string{".mp4", ".webm"}

// Job is one unit of upload work: a JSON file and, for Archive and Split,
// the media file beside it.
type Job struct {
	Kind         Kind
	RecordingID  string   // the directory name
	JSONName     string   // base name of the JSON file
	Media        []string // same-stem media base names present (Archive, Split)
	ConnectionID string   // from the file name; empty for Report
}

// Key identifies the job within archive_dir: "<recording_id>/<json name>".
func (j Job) Key() string { return j.RecordingID + "/" + j.JSONName }

// Classify reports the kind of a JSON file name and the connection id it
// names. ok is false for names that drive no work.
func Classify(name string) (kind Kind, connectionID string, ok bool) {
	stem, isJSON := strings.CutSuffix(name, ".json")
	if !isJSON || stem == "" {
		return 0, "", false
	}
	switch {
	case strings.HasPrefix(stem, "split-archive-end-"):
		return named(SplitEnd, strings.TrimPrefix(stem, "split-archive-end-"))
	case strings.HasPrefix(stem, "split-archive-"):
		rest := strings.TrimPrefix(stem, "split-archive-")
		i := strings.LastIndexByte(rest, '_')
		if i <= 0 || !allDigits(rest[i+1:]) {
			return 0, "", false
		}
		return Split, rest[:i], true
	case strings.HasPrefix(stem, "archive-"):
		return named(Archive, strings.TrimPrefix(stem, "archive-"))
	case strings.HasPrefix(stem, "report-"):
		if stem == "report-" {
			return 0, "", false
		}
		return Report, "", true
	}
	return 0, "", false
}

// named returns kind for a non-empty connection id.
func named(kind Kind, cid string) (Kind, string, bool) {
	if cid == "" {
		return 0, "", false
	}
	return kind, cid, true
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// Ignored reports whether a directory entry is never the uploader's business:
// hidden files and temporary names that a writer may still be filling.
func Ignored(name string) bool {
	return name == "" || strings.HasPrefix(name, ".") ||
		strings.HasSuffix(name, ".tmp") || strings.HasSuffix(name, ".part")
}

// Plan returns the jobs of recording directory rid that may start now,
// given the names in it, done, which reports whether a name was already
// uploaded (kept files in "keep" mode), and refs, which returns what a
// report file references (nil: nothing). Order: archives and splits by
// name, then split ends, then the report.
//
// Rules: an archive or split JSON needs a same-stem media file; a split end
// waits until no split file of its connection is left to upload; a report
// waits until every other file of the directory has been uploaded, except
// strays: media files with no JSON beside them that the report does not
// reference. Those would never be uploaded, so they never hold it back.
func Plan(rid string, names []string, done func(name string) bool, refs func(report string) Refs) []Job {
	d := newDirNames(names)
	var media, ends, reports []Job
	for _, n := range d.sorted {
		kind, cid, ok := Classify(n)
		if !ok || done(n) {
			continue
		}
		job := Job{Kind: kind, RecordingID: rid, JSONName: n, ConnectionID: cid}
		switch kind {
		case Archive, Split:
			job.Media = sameStemMedia(n, d.present)
			if len(job.Media) > 0 {
				media = append(media, job)
			}
		case SplitEnd:
			if !pendingSplits(cid, d.sorted, done) {
				ends = append(ends, job)
			}
		case Report:
			var r Refs
			if refs != nil {
				r = refs(n)
			}
			if reportReady(d, done, r) {
				reports = append(reports, job)
			}
		}
	}
	return append(append(media, ends...), reports...)
}

// dirNames is a recording directory's listing.
type dirNames struct {
	present map[string]bool // names that are the uploader's business
	sorted  []string        // the same, in order
	temps   []string        // ignored names: hidden or still being written
}

func newDirNames(names []string) dirNames {
	d := dirNames{present: make(map[string]bool, len(names))}
	for _, n := range names {
		if Ignored(n) {
			d.temps = append(d.temps, n)
		} else if !d.present[n] {
			d.present[n] = true
			d.sorted = append(d.sorted, n)
		}
	}
	sort.Strings(d.sorted)
	return d
}

func sameStemMedia(jsonName string, present map[string]bool) []string {
	stem := strings.TrimSuffix(jsonName, ".json")
	var out []string
	for _, ext := range mediaExts {
		if present[stem+ext] {
			out = append(out, stem+ext)
		}
	}
	return out
}

// pendingSplits reports whether any split file of connection cid is not yet
// uploaded.
func pendingSplits(cid string, names []string, done func(string) bool) bool {
	prefix := "split-archive-" + cid + "_"
	for _, n := range names {
		if strings.HasPrefix(n, prefix) && !done(n) {
			return true
		}
	}
	return false
}
