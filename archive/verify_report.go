package archive

import (
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// checkSplitEnd checks a split series' end JSON against the parts present.
func (v *verifier) checkSplitEnd(name string) {
	r := v.row(name, "split-end")
	var end SplitEndMetadata
	if !v.decode(r, name, "split-archive-end", &end) {
		return
	}
	r.Format = end.Format
	if name != SplitEnd(end.ConnectionID) || end.RecordingID != v.rid {
		r.problem("names connection %q of recording %q", end.ConnectionID, end.RecordingID)
		return
	}
	last, err := strconv.Atoi(end.SplitLastIndex)
	if err != nil || last < 1 {
		r.problem("split_last_index %q", end.SplitLastIndex)
		return
	}
	for i := 1; i <= last; i++ {
		if !v.files[SplitMedia(end.ConnectionID, i, end.Format)] {
			r.problem("part %s missing", SplitIndex(i))
		}
	}
	if v.files[SplitMedia(end.ConnectionID, last+1, end.Format)] {
		r.problem("part %s exists past split_last_index", SplitIndex(last+1))
	}
}

// checkReport checks that the recording's report exists, is well formed
// and lists exactly the archives in the directory.
func (v *verifier) checkReport() {
	name := Report(v.rid)
	r := v.row(name, "report")
	for f := range v.files {
		if strings.HasPrefix(f, "report-") && f != name {
			v.row(f, "report").problem("report of another recording")
		}
	}
	if !v.files[name] {
		r.problem("missing: the recording did not finish")
		return
	}
	var rep ReportMetadata
	if !v.decode(r, name, "report", &rep) {
		return
	}
	r.Format = rep.Format
	if rep.RecordingID != v.rid {
		r.problem("recording_id %q", rep.RecordingID)
	}
	listed := map[string]bool{}
	for _, a := range rep.Archives {
		v.checkListed(r, rep, a, listed)
	}
	for f, isFile := range v.files {
		ext := path.Ext(f)
		if isFile && (ext == ".mp4" || ext == ".webm") && strings.Contains(f, "archive-") && !listed[f] {
			v.row(f, kindOf(f)).problem("not listed in %s", name)
		}
	}
}

// checkListed checks one report entry and marks the files it lists.
func (v *verifier) checkListed(r *VerifyRow, rep ReportMetadata, a ReportArchive, listed map[string]bool) {
	if a.Filename == "" && a.SplitLastIndex == "" {
		r.problem("entry for %s lists no file", a.ConnectionID)
	}
	if a.Filename != "" {
		base := path.Base(a.Filename)
		if !v.files[base] || base != ArchiveMedia(a.ConnectionID, rep.Format) {
			r.problem("lists %s, which is not here", a.Filename)
		}
		listed[base] = true
	}
	if a.SplitLastIndex == "" {
		return
	}
	last, err := strconv.Atoi(a.SplitLastIndex)
	if err != nil {
		r.problem("entry for %s: split_last_index %q", a.ConnectionID, a.SplitLastIndex)
		return
	}
	if !v.files[SplitEnd(a.ConnectionID)] {
		r.problem("no %s for %s", SplitEnd(a.ConnectionID), a.ConnectionID)
	}
	for i := 1; i <= last; i++ {
		listed[SplitMedia(a.ConnectionID, i, rep.Format)] = true
	}
}

// WriteTable prints one line per file and the problems under it.
func (v *Verification) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FILE\tKIND\tFORMAT\tSIZE\tDURATION\tVIDEO\tAUDIO\tSTATUS")
	for _, r := range v.Rows {
		status := "ok"
		if len(r.Problems) > 0 {
			status = fmt.Sprintf("%d problem(s)", len(r.Problems))
		}
		dur := "-"
		if r.Duration > 0 {
			dur = r.Duration.Round(time.Millisecond).String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%d\t%d\t%s\n", r.Name, r.Kind, r.Format, r.Size, dur, r.VideoFrames, r.AudioFrames, status)
		for _, p := range r.Problems {
			fmt.Fprintf(tw, "  - %s\n", p) // no tab: not part of the columns
		}
	}
	return tw.Flush()
}
