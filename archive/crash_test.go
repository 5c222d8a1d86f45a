package archive

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kiroku-sfu/kiroku/test/judge"
)

// crashChildEnv names the directory a re-executed test binary records
// into before its parent kills it.
const crashChildEnv = "KIROKU_ARCHIVE_CRASH_CHILD"

func TestMain(m *testing.M) {
	if root := os.Getenv(crashChildEnv); root != "" {
		os.Exit(crashChild(root))
	}
	os.Exit(m.Run())
}

// crashConfig is the configuration parent and child share.
func crashConfig(root string) Config {
	cfg := DefaultConfig()
	cfg.ArchiveDir, cfg.TmpDir = filepath.Join(root, "archive"), filepath.Join(root, "tmp")
	cfg.QuarantineDir = filepath.Join(root, "quarantine")
	return cfg
}

type discardNotifier struct{}

func (discardNotifier) Event(string, Connection, string, string, any) {}
func (discardNotifier) Session(string, string, string, any)           {}

// crashChild records two channels (MP4 single, WebM split-only), prints
// "ready" once everything handed over is written, and waits to be killed.
func crashChild(root string) int {
	ids := 0
	m, err := NewManager(crashConfig(root), Deps{Notifier: discardNotifier{}, QueueSize: 1 << 15,
		NewID: func() string { ids++; return "CRASH" + SplitIndex(ids) }})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for _, ch := range []struct {
		name, fixture string
		opts          Options
	}{
		{"mp4", "h264_cb_opus", Options{Format: FormatMP4}},
		{"webm", "vp8_opus", Options{Format: FormatWebM, SplitOnly: true, SplitDuration: 2}},
	} {
		fx, err := readFixture(ch.fixture, "C-"+ch.name, 6*time.Second)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		src := &fakeSource{}
		m.SessionCreated(ch.name, "S-"+ch.name, nil)
		m.ConnectionJoined(ch.name, fx.conn, src)
		if _, err := m.StartRecording(ch.name, ch.opts); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fx.play(src.subscribed(), time.Now())
	}
	waitStable(filepath.Join(root, "tmp"))
	fmt.Println("ready")
	select {}
}

// waitStable returns once the directory's total size stopped changing.
func waitStable(dir string) {
	last := int64(-1)
	for {
		time.Sleep(300 * time.Millisecond)
		var total int64
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if fi, err := e.Info(); err == nil {
				total += fi.Size()
			}
		}
		if total == last && total > 0 {
			return
		}
		last = total
	}
}

// TestCrashRecovery kills a recording process, then recovers its files.
func TestCrashRecovery(t *testing.T) {
	root := t.TempDir()
	runAndKillChild(t, root)
	cfg := crashConfig(root)
	garbage := filepath.Join(cfg.TmpDir, tmpName("CRASH0001", "archive-junk.mp4"))
	side, _ := json.Marshal(pendingFile{ArchiveDir: cfg.ArchiveDir, Meta: ArchiveMetadata{Identity: Identity{RecordingID: "CRASH0001"}}})
	for path, data := range map[string][]byte{garbage: []byte("not a media file at all"), garbage + pendingSuffix: side,
		filepath.Join(cfg.TmpDir, "stray.bin"): {1, 2, 3}} {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	n := newRecNotifier()
	m, err := NewManager(cfg, Deps{Clock: newFakeClock(), Notifier: n})
	if err != nil {
		t.Fatal(err)
	}
	res, err := m.Recover()
	if err != nil {
		t.Fatal(err)
	}
	if res.Files < 2 || res.Reports != 2 || res.Quarantined != 2 {
		t.Errorf("Recover = %+v, want ≥2 files, 2 reports, 2 quarantined", res)
	}
	if left, _ := os.ReadDir(cfg.TmpDir); len(left) != 0 {
		t.Errorf("left in archive_tmp_dir: %v", left)
	}
	for _, name := range []string{filepath.Base(garbage), filepath.Base(garbage) + ".reason.txt", "stray.bin.reason.txt"} {
		if _, err := os.Stat(filepath.Join(cfg.QuarantineDir, name)); err != nil {
			t.Errorf("quarantine: %v", err)
		}
	}
	checkRecoveredSingle(t, cfg, "CRASH0001", "C-mp4")
	checkRecoveredSplits(t, cfg, "CRASH0002", "C-webm")
	verifyOK(t, filepath.Join(cfg.ArchiveDir, "CRASH0001"))
	verifyOK(t, filepath.Join(cfg.ArchiveDir, "CRASH0002"))
	types := strings.Join(n.types(), " ")
	for _, want := range []string{"archive.available:C-mp4", "split-archive.available:C-webm", "split-archive.end:C-webm", "recording.report"} {
		if !strings.Contains(types, want) {
			t.Errorf("events %s: no %s", types, want)
		}
	}
}

func runAndKillChild(t *testing.T, root string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+root)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan bool, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		ready <- strings.TrimSpace(line) == "ready"
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Error("child failed before recording")
		}
	case <-time.After(60 * time.Second):
		t.Error("child not ready in 60 s")
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if t.Failed() {
		t.FailNow()
	}
}

func checkRecoveredSingle(t *testing.T, cfg Config, rid, cid string) {
	t.Helper()
	dir := filepath.Join(cfg.ArchiveDir, rid)
	meta := readJSON(t, filepath.Join(dir, ArchiveMeta(cid)))
	validateFile(t, "archive", filepath.Join(dir, ArchiveMeta(cid)))
	if meta["recovered"] != true || meta["recovered_duration_ms"].(float64) < 4000 {
		t.Errorf("recovered %v, duration %v ms: want true and at most 2 s missing of 6 s", meta["recovered"], meta["recovered_duration_ms"])
	}
	path := filepath.Join(dir, ArchiveMedia(cid, FormatMP4))
	if msg, err := judge.DecodeErrors(path, ""); err != nil || msg != "" {
		t.Errorf("recovered file does not decode cleanly: %v %s", err, msg)
	}
	rep := readJSON(t, filepath.Join(dir, Report(rid)))
	validateFile(t, "report", filepath.Join(dir, Report(rid)))
	if a, _ := rep["archives"].([]any); len(a) != 1 || a[0].(map[string]any)["filename"] != rid+"/"+ArchiveMedia(cid, FormatMP4) {
		t.Errorf("report archives %v", rep["archives"])
	}
}

func checkRecoveredSplits(t *testing.T, cfg Config, rid, cid string) {
	t.Helper()
	dir := filepath.Join(cfg.ArchiveDir, rid)
	end := readJSON(t, filepath.Join(dir, SplitEnd(cid)))
	validateFile(t, "split-archive-end", filepath.Join(dir, SplitEnd(cid)))
	last, _ := end["split_last_index"].(string)
	if last < "0002" {
		t.Fatalf("split_last_index %q", last)
	}
	lastMeta := readJSON(t, filepath.Join(dir, SplitMeta(cid, atoi(last))))
	if lastMeta["recovered"] != true {
		t.Errorf("last part not marked recovered: %v", lastMeta)
	}
	for i := 1; i <= atoi(last); i++ {
		if msg, err := judge.DecodeErrors(filepath.Join(dir, SplitMedia(cid, i, FormatWebM)), ""); err != nil || msg != "" {
			t.Errorf("part %d: %v %s", i, err, msg)
		}
	}
	rep := readJSON(t, filepath.Join(dir, Report(rid)))
	if a, _ := rep["archives"].([]any); len(a) != 1 || a[0].(map[string]any)["split_last_index"] != last {
		t.Errorf("report archives %v", rep["archives"])
	}
}

func atoi(s string) int {
	n := 0
	fmt.Sscan(s, &n)
	return n
}
