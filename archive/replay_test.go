package archive

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kiroku-sfu/kiroku/test/judge"
)

// recordFixture runs one recording of one fixture connection through the
// Manager and returns the recording directory.
func recordFixture(t *testing.T, e *testEnv, fx fixture, o Options) (string, Info) {
	t.Helper()
	if _, err := e.m.SessionCreated("ch", "S1", nil); err != nil {
		t.Fatal(err)
	}
	src := &fakeSource{}
	e.m.ConnectionJoined("ch", fx.conn, src)
	in, err := e.m.StartRecording("ch", o)
	if err != nil {
		t.Fatal(err)
	}
	fx.play(src.subscribed(), e.clock.Now())
	e.clock.Advance(fx.packets[len(fx.packets)-1].offset)
	if _, err := e.m.StopRecording("ch"); err != nil {
		t.Fatal(err)
	}
	e.n.waitFor(t, "recording.report", 30*time.Second)
	return filepath.Join(e.cfg.ArchiveDir, in.RecordingID), in
}

// TestReplayOutputs records fixtures in every output mode and both
// formats and judges the files, their JSON and the report.
func TestReplayOutputs(t *testing.T) {
	for _, tool := range []string{"ffprobe", "ffmpeg"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed (make test installs it): %v", tool, err)
		}
	}
	cases := []struct {
		fixture string
		format  Format
		opts    Options
	}{
		{"vp8_opus", FormatWebM, Options{}},
		{"h264_cb_opus", FormatMP4, Options{}},
		{"vp8_opus", FormatWebM, Options{SplitOnly: true, SplitDuration: 3}},
		{"h264_cb_opus", FormatMP4, Options{SplitOnly: true, SplitDuration: 3}},
		{"vp9_opus", FormatWebM, Options{SplitDuration: 3}},
		{"h265_opus", FormatMP4, Options{SplitDuration: 3}},
	}
	for _, tc := range cases {
		name := fmt.Sprintf("%s_%s_split%d_only%v", tc.fixture, tc.format, tc.opts.SplitDuration, tc.opts.SplitOnly)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, func(c *Config) { c.DualOutput = true }, 1<<15)
			fx := loadFixture(t, tc.fixture, "C1", 8*time.Second)
			tc.opts.Format = tc.format
			dir, in := recordFixture(t, e, fx, tc.opts)
			if os.Getenv("KEEP") != "" {
				exec.Command("cp", "-r", dir, "/tmp/keep-"+name).Run()
			}
			_, out, _ := e.cfg.Resolve(tc.opts)
			checkRecordingDir(t, e, dir, in, out, string(fx.conn.Video.Codec))
			verifyOK(t, dir)
			if left, _ := os.ReadDir(e.cfg.TmpDir); len(left) != 0 {
				t.Errorf("left in archive_tmp_dir: %v", left)
			}
		})
	}
}

// checkRecordingDir judges a finished recording of connection C1.
func checkRecordingDir(t *testing.T, e *testEnv, dir string, in Info, out Output, vcodec string) {
	t.Helper()
	rep := readJSON(t, filepath.Join(dir, Report(in.RecordingID)))
	validateFile(t, "report", filepath.Join(dir, Report(in.RecordingID)))
	archives, _ := rep["archives"].([]any)
	if len(archives) != 1 {
		t.Fatalf("report archives = %v", rep["archives"])
	}
	entry := archives[0].(map[string]any)
	if rep["session_id"] != "S1" || rep["recording_id"] != in.RecordingID || entry["connection_id"] != "C1" {
		t.Errorf("report ids: %v", rep)
	}
	var single int
	if out.Single {
		single = checkSingle(t, e, dir, in, entry, vcodec)
	} else if _, ok := entry["filename"]; ok {
		t.Errorf("split-only report entry has a filename: %v", entry)
	}
	if out.Split {
		checkSplits(t, dir, in, entry, vcodec, single)
	} else if _, ok := entry["split_last_index"]; ok {
		t.Errorf("single-only report entry has split_last_index: %v", entry)
	}
}

func validateFile(t *testing.T, schema, path string) {
	t.Helper()
	validateAgainst(t, schema, readJSON(t, path))
}

// checkSingle checks archive-C1.* and its JSON; it returns the file's
// decoded video frame count.
func checkSingle(t *testing.T, e *testEnv, dir string, in Info, entry map[string]any, vcodec string) int {
	t.Helper()
	media := ArchiveMedia("C1", in.Format)
	path := filepath.Join(dir, media)
	meta := readJSON(t, filepath.Join(dir, ArchiveMeta("C1")))
	validateFile(t, "archive", filepath.Join(dir, ArchiveMeta("C1")))
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"recording_id": in.RecordingID, "channel_id": "ch", "session_id": "S1", "connection_id": "C1",
		"client_id": "client-C1", "bundle_id": "bundle-C1", "format": string(in.Format),
		"filename": in.RecordingID + "/" + media, "file_path": path,
		"metadata_filename": in.RecordingID + "/" + ArchiveMeta("C1"), "size": float64(fi.Size()),
		"audio": true, "audio_codec_type": "OPUS", "video": true, "video_codec_type": vcodec,
		"label": e.cfg.Label, "node_name": e.cfg.NodeName, "start_time_offset": float64(0), "stop_time_offset": float64(8),
	}
	for k, v := range want {
		if meta[k] != v {
			t.Errorf("archive JSON %s = %#v, want %#v", k, meta[k], v)
		}
		if entry[k] != nil && k != "size" && entry[k] != v && k != "file_path" {
			t.Errorf("report entry %s = %#v, want %#v", k, entry[k], v)
		}
	}
	if ts, _ := meta["start_timestamp"].(string); !strings.HasPrefix(ts, in.StartTimestamp[:19]) {
		t.Errorf("start_timestamp %q, recording started %q", ts, in.StartTimestamp)
	}
	if entry["filename"] != want["filename"] {
		t.Errorf("report filename = %v", entry["filename"])
	}
	p, err := judge.ProbeFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if d := p.Format.Length(); d < 7500*time.Millisecond || d > 8500*time.Millisecond {
		t.Errorf("duration %v, want 8 s", d)
	}
	if _, ok := p.Stream("audio"); !ok {
		t.Error("no audio stream")
	}
	n, err := judge.FrameCount(path, "v", vcodec)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// checkSplits checks the split series: JSON per part, the end JSON, cuts
// on keyframes near the boundaries, and that the parts concatenated decode
// to the single file's frame count (when there is one).
func checkSplits(t *testing.T, dir string, in Info, entry map[string]any, vcodec string, single int) {
	t.Helper()
	end := readJSON(t, filepath.Join(dir, SplitEnd("C1")))
	validateFile(t, "split-archive-end", filepath.Join(dir, SplitEnd("C1")))
	last, _ := end["split_last_index"].(string)
	if entry["split_last_index"] != last || last < "0002" {
		t.Fatalf("split_last_index: end %q, report %v", last, entry["split_last_index"])
	}
	var files []string
	for i := 1; SplitIndex(i) <= last; i++ {
		path := filepath.Join(dir, SplitMedia("C1", i, in.Format))
		validateFile(t, "archive", filepath.Join(dir, SplitMeta("C1", i)))
		m := readJSON(t, filepath.Join(dir, SplitMeta("C1", i)))
		if m["split_index"] != SplitIndex(i) || m["filename"] != in.RecordingID+"/"+filepath.Base(path) {
			t.Errorf("part %d JSON: %v", i, m)
		}
		// Every cut was asked for ahead of time: the parts after the
		// first start with a requested keyframe.
		if st, _ := m["stats"].(map[string]any); i > 1 && SplitIndex(i) != last && st["keyframe_requests"].(float64) < 1 {
			t.Errorf("part %d: no keyframe request before its cut: %v", i, st)
		}
		if flags := firstVideoFlags(t, path); !strings.HasPrefix(flags, "K") {
			t.Errorf("part %d starts with a video packet flagged %q, not a keyframe", i, flags)
		}
		p, err := judge.ProbeFile(path)
		if err != nil {
			t.Fatal(err)
		}
		// 3 s parts ± one GOP (2 s in the fixtures); the last takes the rest.
		if d := p.Format.Length(); SplitIndex(i) != last && (d < time.Second || d > 5*time.Second) {
			t.Errorf("part %d lasts %v, want 3 s ± 2 s", i, d)
		}
		files = append(files, path)
	}
	if single == 0 {
		return
	}
	list := filepath.Join(t.TempDir(), "parts.ffconcat")
	var b strings.Builder
	b.WriteString("ffconcat version 1.0\n")
	for _, f := range files {
		fmt.Fprintf(&b, "file '%s'\n", f)
	}
	if err := os.WriteFile(list, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	n := concatFrames(t, list, vcodec)
	if n != single {
		t.Errorf("split parts decode to %d video frames, the single file to %d", n, single)
	}
}

func firstVideoFlags(t *testing.T, path string) string {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0", "-read_intervals", "%+#1",
		"-show_entries", "packet=flags", "-of", "csv=p=0", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	return strings.TrimSpace(string(out))
}

func concatFrames(t *testing.T, list, vcodec string) int {
	t.Helper()
	args := []string{"-nostdin", "-v", "error", "-f", "concat", "-safe", "0", "-auto_convert", "0"}
	if strings.EqualFold(vcodec, "vp9") {
		args = append(args, "-c:v", "libvpx-vp9")
	}
	args = append(args, "-i", list, "-map", "0:v:0", "-fps_mode", "passthrough", "-f", "framecrc", "-")
	out, err := exec.Command("ffmpeg", args...).Output()
	if err != nil {
		t.Fatalf("ffmpeg concat: %v", err)
	}
	n := 0
	for _, l := range strings.Split(string(out), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			n++
		}
	}
	return n
}
