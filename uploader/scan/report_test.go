package scan

import (
	"reflect"
	"testing"
)

// report is a report that references a single archive of A, split files
// of B and names C as failed.
const report = `{"recording_id":"R","channel_id":"ch",
 "archives":[
  {"connection_id":"A","filename":"R/archive-A.webm","metadata_filename":"R/archive-A.json"},
  {"connection_id":"B","split_last_index":"0002"}],
 "failed_archives":[{"connection_id":"C","reason":"no keyframe"}]}`

func reportRefs(t *testing.T) Refs {
	t.Helper()
	m, err := ParseMeta([]byte(report))
	if err != nil {
		t.Fatal(err)
	}
	return m.Refs()
}

func TestRefsHas(t *testing.T) {
	refs := reportRefs(t)
	for name, want := range map[string]bool{
		"archive-A.webm":            true,
		"archive-A.json":            true,
		"archive-A.mp4":             false,
		"split-archive-B_0001.webm": true,
		"split-archive-B_0002.json": true,
		"split-archive-end-B.json":  true,
		"split-archive-BB_0001.mp4": false,
		"archive-B.webm":            false,
		"archive-C.webm":            false,
		"split-archive-end-C.json":  false,
		"report-R.json":             false,
	} {
		if got := refs.Has(name); got != want {
			t.Errorf("Has(%q) = %v, want %v", name, got, want)
		}
	}
	if (Refs{}).Has("archive-A.webm") {
		t.Error("empty refs reference a file")
	}
}

func TestPlanReportWithRefs(t *testing.T) {
	none := func(string) bool { return false }
	refs := func(string) Refs { return reportRefs(t) }
	tests := []struct {
		name  string
		files []string
		want  []string
	}{
		{"referenced media waits for its JSON", []string{"archive-A.webm", "report-R.json"}, []string{}},
		{"referenced split media waits", []string{"split-archive-B_0002.webm", "report-R.json"}, []string{}},
		{"referenced files gone: uploaded", []string{"report-R.json"}, []string{"report-R.json"}},
		{"unreferenced media of another format is a stray", []string{"archive-A.mp4", "report-R.json"},
			[]string{"report-R.json"}},
		{"a failed connection's media is a stray", []string{"archive-C.webm", "report-R.json"},
			[]string{"report-R.json"}},
		{"an unreferenced JSON still goes first",
			[]string{"archive-Z.json", "archive-Z.mp4", "report-R.json"}, []string{"archive-Z.json"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := keys(Plan("R", tt.files, none, refs)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Plan = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestStrays(t *testing.T) {
	names := []string{"archive-A.webm", "archive-A.json", "archive-C.webm", "archive-D.mp4", "archive-D.json",
		"split-archive-B_0001.webm", "split-archive-E_0001.mp4", ".archive-F.webm.tmp", "report-R.json", "notes.txt",
		"archive-G.webm", ".archive-G.json.tmp",
		".mp4"}
	got := Strays(names, reportRefs(t))
	want := []string{"archive-C.webm", "split-archive-E_0001.mp4"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Strays = %v, want %v", got, want)
	}
}
