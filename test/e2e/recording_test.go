package e2e

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kiroku-sfu/kiroku/test/judge"
)

// recordFor is how long the browser tests record.
const recordFor = 12 * time.Second

type recordingInfo struct {
	RecordingID string `json:"recording_id"`
	Format      string `json:"format"`
}

// TestRecordingAPI records two sendrecv pages per format through
// StartRecording and StopRecording. One page disconnects at the end and
// must get its archive.available within a second; both files must be
// valid, 12 ± 1 s long with audio and video; `sfu archive verify` must
// pass; the webhooks must come in Sora's order; the pages are notified.
func TestRecordingAPI(t *testing.T) {
	hooks := &hookLog{}
	srv := startRecServer(t, hooks, "default_recording_format = webm\n")
	for _, tc := range []struct{ format, codec string }{{"webm", "VP8"}, {"mp4", "H264"}} {
		t.Run(tc.format, func(t *testing.T) {
			channel := "rec-api-" + tc.format
			a := srv.joinAt(t, "a", channel, tc.codec, map[string]any{"name": "a"})
			b := srv.joinAt(t, "b", channel, tc.codec, map[string]any{"name": "b"})
			expectFlow(t, a, b, tc.codec)

			var rec recordingInfo
			srv.api(t, "Sora_20231220.StartRecording", map[string]any{"channel_id": channel, "format": tc.format}, &rec)
			started := time.Now()
			if rec.RecordingID == "" || rec.Format != tc.format {
				t.Fatalf("StartRecording = %+v", rec)
			}
			var sess struct{ Recording *recordingInfo }
			srv.api(t, "Sora_20231220.GetSession", map[string]any{"channel_id": channel}, &sess)
			if sess.Recording == nil || sess.Recording.RecordingID != rec.RecordingID {
				t.Fatalf("GetSession recording = %+v, want %s", sess.Recording, rec.RecordingID)
			}
			time.Sleep(time.Until(started.Add(recordFor)))
			b.disconnect()
			left := time.Now()
			srv.api(t, "Sora_20231220.StopRecording", map[string]any{"channel_id": channel}, nil)

			avail := hooks.waitHook(t, "archive.available", 10*time.Second, func(w webhook) bool {
				return w.data("recording_id") == rec.RecordingID && w.Body["connection_id"] == b.id
			})
			if d := avail.At.Sub(left); d > time.Second {
				t.Errorf("archive.available of the page that left came %v after it left, want within 1 s", d)
			}
			hooks.waitHook(t, "recording.report", 30*time.Second, func(w webhook) bool { return w.data("recording_id") == rec.RecordingID })
			checkRecordingOrder(t, hooks.ofRecording(rec.RecordingID), []string{a.id, b.id})
			dir := filepath.Join(srv.archive, rec.RecordingID)
			for _, m := range []*member{a, b} {
				checkMedia(t, filepath.Join(dir, "archive-"+m.id+"."+tc.format), recordFor, time.Second)
			}
			verifyRecording(t, dir)
			expectNotified(t, a, "recording.started", "recording.stopped")
		})
	}
}

// TestRecordingFromSessionCreated starts recording from the
// session.created reply (split only, 5 s parts, expiring after 12 s) and
// keeps a recording_block page out of it.
func TestRecordingFromSessionCreated(t *testing.T) {
	const channel = "rec-auto"
	hooks := &hookLog{sessionReply: map[string]string{channel: `{"recording":true,"recording_expire_time":12,` +
		`"recording_split_only":true,"recording_split_duration":5,"recording_metadata":{"by":"session.created"}}`}}
	srv := startRecServer(t, hooks, "default_recording_format = webm\n")
	a := srv.joinAt(t, "a", channel, "VP8", map[string]any{"name": "a"})
	blocked := srv.joinAt(t, "blocked", channel, "VP8", map[string]any{"name": "blocked", "block": true})
	expectFlow(t, a, blocked, "VP8")

	started := hooks.waitHook(t, "recording.started", 10*time.Second, func(webhook) bool { return true })
	rid := started.data("recording_id")
	report := hooks.waitHook(t, "recording.report", 40*time.Second, func(w webhook) bool { return w.data("recording_id") == rid })
	if d := report.At.Sub(started.At); d < 11*time.Second {
		t.Errorf("recording.report %v after recording.started, want the 12 s expiry first", d)
	}
	for _, w := range hooks.ofRecording(rid) {
		if w.Body["connection_id"] == blocked.id {
			t.Errorf("%s sent for the recording_block connection", w.Type)
		}
	}
	hooks.waitHook(t, "split-archive.end", 10*time.Second, func(w webhook) bool { return w.Body["connection_id"] == a.id })
	dir := filepath.Join(srv.archive, rid)
	parts, _ := filepath.Glob(filepath.Join(dir, "split-archive-"+a.id+"_*.webm"))
	if len(parts) < 2 {
		end, _ := os.ReadFile(filepath.Join(dir, "split-archive-end-"+a.id+".json"))
		first, _ := os.ReadFile(strings.TrimSuffix(parts[0], ".webm") + ".json")
		t.Logf("split-archive-end: %s\nfirst part: %s", end, first)
		t.Fatalf("split files %v, want at least two 5 s parts of 12 s", parts)
	}
	slices.Sort(parts)
	// Each cut falls on the first keyframe the browser sends after a 5 s
	// boundary of the recording timeline; the recorder asks for it ahead
	// of the boundary, at it, and again every 2 s of media while the cut
	// waits (a busy Chrome may skip a PLI), so a cut lands within 2.5 s
	// after its boundary, never before it.
	var end time.Duration
	for i, p := range parts {
		checkMedia(t, p, 0, 0)
		if i == len(parts)-1 {
			break
		}
		pr, err := judge.ProbeFile(p)
		if err != nil {
			t.Fatal(err)
		}
		end += pr.Format.Length()
		boundary := time.Duration(i+1) * 5 * time.Second
		if end < boundary-100*time.Millisecond || end > boundary+2500*time.Millisecond {
			t.Errorf("%s ends at %v of the recording, want within [%v, %v]", filepath.Base(p), end,
				boundary-100*time.Millisecond, boundary+2500*time.Millisecond)
		}
	}
	for _, name := range []string{"split-archive-end-" + a.id + ".json", "report-" + rid + ".json"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if got, _ := filepath.Glob(filepath.Join(dir, "*"+blocked.id+"*")); len(got) > 0 {
		t.Errorf("files for the recording_block connection: %v", got)
	}
	verifyRecording(t, dir)
}

// TestRecordingCrash kills the SFU while it records two pages and starts
// it again on the same directories: the files must be finished in
// archive_dir with "recovered": true, decodable, missing at most the last
// 2 s, and archive_tmp_dir must hold no file.
func TestRecordingCrash(t *testing.T) {
	const channel = "rec-crash"
	hooks := &hookLog{}
	srv := startRecServer(t, hooks, "default_recording_format = mp4\n")
	a := srv.joinAt(t, "a", channel, "H264", map[string]any{"name": "a"})
	b := srv.joinAt(t, "b", channel, "H264", map[string]any{"name": "b"})
	expectFlow(t, a, b, "H264")
	var rec recordingInfo
	started := time.Now() // before the call: recorded bounds the recording from above
	srv.api(t, "Sora_20231220.StartRecording", map[string]any{"channel_id": channel}, &rec)
	time.Sleep(8 * time.Second)
	srv.stop(syscall.SIGKILL)
	recorded := time.Since(started)
	srv.start()

	dir := filepath.Join(srv.archive, rec.RecordingID)
	for _, m := range []*member{a, b} {
		// The crash may cost the unflushed second; the file may run a
		// little past the wall clock (its span is the RTP timestamps',
		// plus the last frame's duration): from recorded-2s to
		// recorded+250ms.
		checkMedia(t, filepath.Join(dir, "archive-"+m.id+".mp4"), recorded-875*time.Millisecond, 1125*time.Millisecond)
		var meta struct {
			Recovered bool `json:"recovered"`
		}
		raw, err := os.ReadFile(filepath.Join(dir, "archive-"+m.id+".json"))
		if err != nil || json.Unmarshal(raw, &meta) != nil || !meta.Recovered {
			t.Errorf("metadata of %s: %v %s, want recovered: true", m.name, err, raw)
		}
		hooks.waitHook(t, "archive.available", 10*time.Second, func(w webhook) bool {
			return w.data("recording_id") == rec.RecordingID && w.Body["connection_id"] == m.id
		})
	}
	_ = filepath.WalkDir(srv.tmp, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			t.Errorf("left in archive_tmp_dir: %s", path)
		}
		return nil
	})
	verifyRecording(t, dir)
}

// TestRecordingShutdown stops the SFU with SIGTERM while it records: the
// recorder finishes its file into archive_dir and the webhooks, the
// report included, are delivered before the program exits. The session's
// end stops the recording, so recording.report follows session.destroyed.
func TestRecordingShutdown(t *testing.T) {
	const channel = "rec-term"
	hooks := &hookLog{}
	srv := startRecServer(t, hooks, "default_recording_format = webm\n")
	a := srv.joinAt(t, "a", channel, "VP8", map[string]any{"name": "a"})
	var rec recordingInfo
	srv.api(t, "Sora_20231220.StartRecording", map[string]any{"channel_id": channel}, &rec)
	time.Sleep(4 * time.Second)
	stopping := time.Now()
	srv.stop(syscall.SIGTERM)
	t.Logf("SIGTERM to exit: %v", time.Since(stopping))
	got := hooks.ofRecording(rec.RecordingID)
	if len(got) == 0 || got[len(got)-1].Type != "recording.report" {
		t.Fatalf("webhooks delivered before exit: %v, want recording.report last", got)
	}
	var order []string
	for _, w := range hooks.matching(func(w webhook) bool { return strings.HasPrefix(w.Type, "session.") || w.Type == "recording.report" }) {
		order = append(order, w.Type)
	}
	if i := slices.Index(order, "session.destroyed"); i < 0 || i > slices.Index(order, "recording.report") {
		t.Errorf("session webhooks %v: the session's end stopped the recording, so recording.report must follow session.destroyed", order)
	}
	dir := filepath.Join(srv.archive, rec.RecordingID)
	checkMedia(t, filepath.Join(dir, "archive-"+a.id+".webm"), 4*time.Second, time.Second)
	verifyRecording(t, dir)
}

// checkRecordingOrder checks one recording's webhooks: recording.started
// first, recording.report last, and per connection one archive.started
// before one archive.available.
func checkRecordingOrder(t *testing.T, hooks []webhook, conns []string) {
	t.Helper()
	var types []string
	for _, w := range hooks {
		types = append(types, w.Type+"("+fmt.Sprint(w.Body["connection_id"])+")")
	}
	t.Logf("recording webhooks: %v", types)
	if len(hooks) == 0 || hooks[0].Type != "recording.started" || hooks[len(hooks)-1].Type != "recording.report" {
		t.Fatalf("webhooks %v, want recording.started first and recording.report last", types)
	}
	for _, c := range conns {
		var seq []string
		for _, w := range hooks {
			if w.Body["connection_id"] == c {
				seq = append(seq, w.Type)
			}
		}
		if !slices.Equal(seq, []string{"archive.started", "archive.available"}) {
			t.Errorf("webhooks of %s: %v, want archive.started, archive.available (all: %v)", c, seq, types)
		}
	}
}

// checkMedia probes a recorded file: audio and video, a clean decode and,
// when want > 0, a length of want ± tolerance.
func checkMedia(t *testing.T, path string, want, tolerance time.Duration) {
	t.Helper()
	p, err := judge.ProbeFile(path)
	if err != nil {
		t.Errorf("%s: %v", filepath.Base(path), err)
		return
	}
	_, hasVideo := p.Stream("video")
	_, hasAudio := p.Stream("audio")
	if !hasVideo || !hasAudio {
		t.Errorf("%s: video %t audio %t, want both", filepath.Base(path), hasVideo, hasAudio)
	}
	t.Logf("%s: %v", filepath.Base(path), p.Format.Length())
	if got := p.Format.Length(); want > 0 && (got < want-tolerance || got > want+tolerance) {
		t.Errorf("%s lasts %v, want %v ± %v", filepath.Base(path), got, want, tolerance)
	}
	if msg, err := judge.DecodeErrors(path, ""); err != nil || msg != "" {
		t.Errorf("%s decode: %v %s", filepath.Base(path), err, msg)
	}
}

// verifyRecording runs `sfu archive verify` on a recording directory.
func verifyRecording(t *testing.T, dir string) {
	t.Helper()
	out, err := exec.Command(buildSFU(t), "archive", "verify", dir).CombinedOutput()
	if err != nil {
		t.Errorf("sfu archive verify %s: %v\n%s", dir, err, out)
	}
}

// expectNotified waits until the page got notifies of the given types.
func expectNotified(t *testing.T, m *member, types ...string) {
	t.Helper()
	waitFor(t, m.name+" notified", 5*time.Second, func() string {
		var got []string
		for _, n := range m.state().Notifies {
			got = append(got, fmt.Sprint(n["event_type"]))
		}
		for _, want := range types {
			if !slices.Contains(got, want) {
				return "notifies " + strings.Join(got, ",")
			}
		}
		return ""
	})
}
