package archive

import "testing"

func TestSplitIndex(t *testing.T) {
	for _, tc := range []struct {
		in   int
		want string
	}{{1, "0001"}, {42, "0042"}, {9999, "9999"}, {10000, "10000"}, {123456, "123456"}} {
		if got := SplitIndex(tc.in); got != tc.want {
			t.Errorf("SplitIndex(%d) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestFileNames(t *testing.T) {
	n := Names{ArchiveDir: "/var/archive", RecordingID: "R1"}
	for _, tc := range []struct{ got, want string }{
		{ArchiveMedia("C1", FormatMP4), "archive-C1.mp4"},
		{ArchiveMeta("C1"), "archive-C1.json"},
		{SplitMedia("C1", 3, FormatWebM), "split-archive-C1_0003.webm"},
		{SplitMeta("C1", 10000), "split-archive-C1_10000.json"},
		{SplitEnd("C1"), "split-archive-end-C1.json"},
		{Report("R1"), "report-R1.json"},
		{n.Rel("archive-C1.mp4"), "R1/archive-C1.mp4"},
		{n.Abs("archive-C1.mp4"), "/var/archive/R1/archive-C1.mp4"},
		{n.Dir(), "/var/archive/R1"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
	if _, err := ParseFormat("mkv"); err == nil {
		t.Error("ParseFormat accepted mkv")
	}
	if f, err := ParseFormat("mp4"); err != nil || f != FormatMP4 {
		t.Errorf("ParseFormat(mp4) = %v, %v", f, err)
	}
}
