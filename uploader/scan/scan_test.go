package scan

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		name string
		kind Kind
		cid  string
		ok   bool
	}{
		{"archive-C1.json", Archive, "C1", true},
		{"split-archive-C1_0001.json", Split, "C1", true},
		{"split-archive-C_1_10000.json", Split, "C_1", true},
		{"split-archive-end-C1.json", SplitEnd, "C1", true},
		{"report-R1.json", Report, "", true},
		{"archive-C1.mp4", 0, "", false},
		{"archive-.json", 0, "", false},
		{"split-archive-C1_abc.json", 0, "", false},
		{"split-archive-C1.json", 0, "", false},
		{"report-.json", 0, "", false},
		{"other.json", 0, "", false},
		{".json", 0, "", false},
	}
	for _, tt := range tests {
		kind, cid, ok := Classify(tt.name)
		if kind != tt.kind || cid != tt.cid || ok != tt.ok {
			t.Errorf("Classify(%q) = %v, %q, %v; want %v, %q, %v", tt.name, kind, cid, ok, tt.kind, tt.cid, tt.ok)
		}
	}
}

func keys(jobs []Job) []string {
	out := []string{}
	for _, j := range jobs {
		out = append(out, j.JSONName)
	}
	return out
}

func TestPlan(t *testing.T) {
	none := func(string) bool { return false }
	tests := []struct {
		name  string
		files []string
		done  []string
		want  []string
	}{
		{"media without json", []string{"archive-A.mp4"}, nil, []string{}},
		{"json without media", []string{"archive-A.json"}, nil, []string{}},
		{"single", []string{"archive-A.json", "archive-A.webm"}, nil, []string{"archive-A.json"}},
		{"report waits for archive",
			[]string{"archive-A.json", "archive-A.mp4", "report-R.json"}, nil, []string{"archive-A.json"}},
		{"report goes on without a stray media file", []string{"archive-A.mp4", "report-R.json"}, nil,
			[]string{"report-R.json"}},
		{"report waits for a media file with its JSON, not for a stray",
			[]string{"archive-A.json", "archive-A.mp4", "archive-X.webm", "report-R.json"}, nil,
			[]string{"archive-A.json"}},
		{"report after its archives, strays left",
			[]string{"archive-A.json", "archive-A.mp4", "archive-X.webm", "split-archive-Y_0003.mp4", "report-R.json"},
			[]string{"archive-A.json", "archive-A.mp4"}, []string{"report-R.json"}},
		{"report alone", []string{"report-R.json"}, nil, []string{"report-R.json"}},
		{"report after kept files",
			[]string{"archive-A.json", "archive-A.mp4", "report-R.json"},
			[]string{"archive-A.json", "archive-A.mp4"}, []string{"report-R.json"}},
		{"end waits for splits",
			[]string{"split-archive-A_0001.json", "split-archive-A_0001.mp4", "split-archive-end-A.json",
				"split-archive-end-B.json"},
			nil, []string{"split-archive-A_0001.json", "split-archive-end-B.json"}},
		{"end after splits done",
			[]string{"split-archive-end-A.json", "report-R.json"}, nil, []string{"split-archive-end-A.json"}},
		{"hidden and temp ignored",
			[]string{".uploader", "archive-A.json.tmp", "archive-A.mp4", "report-R.json"}, nil, []string{}},
		{"temp ignored for report", []string{"x.tmp", "report-R.json"}, nil, []string{"report-R.json"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			done := none
			if tt.done != nil {
				set := map[string]bool{}
				for _, d := range tt.done {
					set[d] = true
				}
				done = func(n string) bool { return set[n] }
			}
			got := keys(Plan("R", tt.files, done, nil))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Plan = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestPlanMediaAndKey(t *testing.T) {
	jobs := Plan("R", []string{"archive-A.json", "archive-A.mp4", "archive-A.webm"}, func(string) bool { return false }, nil)
	if len(jobs) != 1 {
		t.Fatalf("jobs = %v", jobs)
	}
	if !reflect.DeepEqual(jobs[0].Media, []string{"archive-A.mp4", "archive-A.webm"}) {
		t.Errorf("media = %v", jobs[0].Media)
	}
	if jobs[0].Key() != "R/archive-A.json" || jobs[0].Kind.String() != "archive" {
		t.Errorf("key %q kind %v", jobs[0].Key(), jobs[0].Kind)
	}
}

func TestMeta(t *testing.T) {
	job := Job{Kind: Archive, RecordingID: "R", JSONName: "archive-A.json", Media: []string{"archive-A.mp4"}, ConnectionID: "A"}
	tests := []struct {
		name    string
		json    string
		media   string
		wantErr bool
	}{
		{"ok", `{"recording_id":"R","connection_id":"A","filename":"R/archive-A.mp4"}`, "archive-A.mp4", false},
		{"no filename, one media", `{"recording_id":"R","connection_id":"A"}`, "archive-A.mp4", false},
		{"wrong media", `{"recording_id":"R","connection_id":"A","filename":"R/archive-A.webm"}`, "", true},
		{"wrong recording", `{"recording_id":"X","connection_id":"A","filename":"R/archive-A.mp4"}`, "", true},
		{"wrong connection", `{"recording_id":"R","connection_id":"B","filename":"R/archive-A.mp4"}`, "", true},
		{"no recording id", `{"connection_id":"A"}`, "", true},
		{"truncated", `{"recording_id":"R"`, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ReadMeta(strings.NewReader(tt.json))
			if err == nil {
				err = m.Check(job)
			}
			var media string
			if err == nil {
				media, err = m.MediaName(job)
			}
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil && !errors.Is(err, ErrBadMeta) {
				t.Errorf("err %v is not ErrBadMeta", err)
			}
			if media != tt.media {
				t.Errorf("media = %q, want %q", media, tt.media)
			}
		})
	}
}

func TestReadMetaTooLarge(t *testing.T) {
	big := `{"recording_id":"R","x":"` + strings.Repeat("a", MaxJSONBytes) + `"}`
	if _, err := ReadMeta(strings.NewReader(big)); !errors.Is(err, ErrBadMeta) {
		t.Fatalf("err = %v, want ErrBadMeta", err)
	}
}

func TestWebhookRecordingMetadata(t *testing.T) {
	m, err := ParseMeta([]byte(`{"recording_id":"R","session_id":"S","recording_metadata":{"a":1},"metadata":{"b":2}}`))
	if err != nil {
		t.Fatal(err)
	}
	if string(m.WebhookRecordingMetadata()) != `{"a":1}` {
		t.Errorf("session report: %s", m.WebhookRecordingMetadata())
	}
	m.SessionID = ""
	if string(m.WebhookRecordingMetadata()) != `{"b":2}` {
		t.Errorf("legacy report: %s", m.WebhookRecordingMetadata())
	}
}

func FuzzParseMeta(f *testing.F) {
	f.Add([]byte(`{"recording_id":"R","connection_id":"A","filename":"R/archive-A.mp4"}`))
	f.Add([]byte(`{"recording_id":"R","session_id":"S","recording_metadata":{"a":[1,2]}}`))
	f.Add([]byte(`{"recording_id":1}`))
	f.Add([]byte(`[`))
	job := Job{Kind: Split, RecordingID: "R", JSONName: "split-archive-A_0001.json", Media: []string{"split-archive-A_0001.webm"}, ConnectionID: "A"}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseMeta(b)
		if err != nil {
			return
		}
		if m.RecordingID == "" {
			t.Fatal("parsed meta without recording_id")
		}
		if m.Check(job) == nil {
			if name, err := m.MediaName(job); err == nil && name != job.Media[0] {
				t.Fatalf("media %q not among %v", name, job.Media)
			}
		}
	})
}

func FuzzPlan(f *testing.F) {
	f.Add("archive-A.json\x00archive-A.mp4\x00report-R.json")
	f.Add("split-archive-A_0001.json\x00split-archive-end-A.json\x00split-archive-A_0001.webm")
	f.Fuzz(func(t *testing.T, list string) {
		names := strings.Split(list, "\x00")
		m, err := ParseMeta([]byte(report))
		if err != nil {
			t.Fatal(err)
		}
		refs := func(string) Refs { return m.Refs() }
		for _, s := range Strays(names, m.Refs()) {
			if _, _, isJob := Classify(s); isJob || !isMedia(s) {
				t.Fatalf("stray %q is not a media file", s)
			}
		}
		for _, j := range Plan("R", names, func(string) bool { return false }, refs) {
			kind, _, ok := Classify(j.JSONName)
			if !ok || kind != j.Kind {
				t.Fatalf("planned %q as %v", j.JSONName, j.Kind)
			}
			if (kind == Archive || kind == Split) && len(j.Media) == 0 {
				t.Fatalf("media job %q without media", j.JSONName)
			}
		}
	})
}
