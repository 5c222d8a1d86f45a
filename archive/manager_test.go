package archive

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestStartRecordingErrors(t *testing.T) {
	e := newEnv(t, nil, 0)
	if _, err := e.m.StartRecording("none", Options{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("no session: %v, want ErrNotFound", err)
	}
	if _, err := e.m.StopRecording("none"); !errors.Is(err, ErrNotFound) {
		t.Errorf("stop without session: %v, want ErrNotFound", err)
	}
	if _, err := e.m.SessionCreated("ch", "S1", nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"split_only without split_duration", Options{SplitOnly: true}},
		{"expire_time over the cap", Options{ExpireTime: e.cfg.MaxExpireTime + 1}},
		{"split over the cap", Options{SplitOnly: true, SplitDuration: e.cfg.MaxSplitDuration + 1}},
		{"split without dual output", Options{SplitDuration: 10}},
		{"bad format", Options{Format: "avi"}},
	} {
		if _, err := e.m.StartRecording("ch", tc.opts); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", tc.name, err)
		}
	}
	if _, ok := e.m.Recording("ch"); ok {
		t.Fatal("a rejected request left a recording")
	}
	in, err := e.m.StartRecording("ch", Options{ExpireTime: 60, Metadata: []byte(`{"a":1}`)})
	if err != nil {
		t.Fatal(err)
	}
	if in.RecordingID == "" || in.Format != FormatWebM || in.ExpireTime != 60 || in.SessionID != "S1" ||
		in.ExpiredAt != e.clock.Now().Unix()+60 || string(in.RecordingMetadata) != `{"a":1}` {
		t.Errorf("StartRecording = %+v", in)
	}
	if got, ok := e.m.Recording("ch"); !ok || got.RecordingID != in.RecordingID {
		t.Errorf("Recording() = %+v, %v", got, ok)
	}
	if _, err := e.m.StartRecording("ch", Options{}); !errors.Is(err, ErrConflict) {
		t.Errorf("second start: %v, want ErrConflict", err)
	}
	if _, err := e.m.StopRecording("ch"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.m.StopRecording("ch"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second stop: %v, want ErrNotFound", err)
	}
}

// TestEventsInSorasOrder records a session started by the session.created
// reply, with a blocked connection and one that leaves early.
func TestEventsInSorasOrder(t *testing.T) {
	e := newEnv(t, nil, 1<<15)
	fx := loadFixture(t, "vp8_opus", "C1", 3*time.Second)
	in, err := e.m.SessionCreated("ch", "S1", &Options{Format: FormatMP4})
	if err != nil || in.RecordingID == "" {
		t.Fatalf("SessionCreated = %+v, %v", in, err)
	}
	blocked := fx.conn
	blocked.ConnectionID, blocked.RecordingBlock = "C2", true
	src1, src2 := &fakeSource{}, &fakeSource{}
	e.m.ConnectionJoined("ch", fx.conn, src1)
	e.m.ConnectionJoined("ch", blocked, src2)
	if src2.subscribed() != nil {
		t.Fatal("a recording_block connection was subscribed")
	}
	fx.play(src1.subscribed(), e.clock.Now())
	e.clock.Advance(3 * time.Second)

	left := time.Now()
	e.m.ConnectionLeft("ch", "C1")
	src1.Close() // the SFU ends the subscription too
	e.n.waitFor(t, "archive.available", 5*time.Second)
	if d := time.Since(left); d > time.Second {
		t.Errorf("archive.available %v after the connection left", d)
	}
	e.m.SessionDestroyed("ch")
	e.n.waitFor(t, "recording.report", 10*time.Second)
	want := []string{"recording.started", "archive.started:C1", "archive.available:C1", "recording.report"}
	if got := e.n.types(); !slices.Equal(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}
	if got := e.n.notify; !slices.Equal(got, []string{"recording.started", "recording.stopped"}) {
		t.Errorf("channel notifies %v", got)
	}
	rep := readJSON(t, filepath.Join(e.cfg.ArchiveDir, in.RecordingID, Report(in.RecordingID)))
	if a, _ := rep["archives"].([]any); len(a) != 1 || a[0].(map[string]any)["connection_id"] != "C1" {
		t.Errorf("report archives %v", rep["archives"])
	}
}

func TestExpiryStopsTheRecording(t *testing.T) {
	e := newEnv(t, nil, 1<<15)
	fx := loadFixture(t, "h264_cb_opus", "C1", 2*time.Second)
	if _, err := e.m.SessionCreated("ch", "S1", nil); err != nil {
		t.Fatal(err)
	}
	src := &fakeSource{}
	e.m.ConnectionJoined("ch", fx.conn, src)
	in, err := e.m.StartRecording("ch", Options{ExpireTime: 5, Format: FormatMP4})
	if err != nil {
		t.Fatal(err)
	}
	fx.play(src.subscribed(), e.clock.Now())
	e.clock.Advance(4 * time.Second)
	if _, ok := e.m.Recording("ch"); !ok {
		t.Fatal("recording stopped before expire_time")
	}
	e.clock.Advance(time.Second)
	e.n.waitFor(t, "recording.report", 10*time.Second)
	if _, ok := e.m.Recording("ch"); ok {
		t.Error("recording still listed after expiry")
	}
	rep := readJSON(t, filepath.Join(e.cfg.ArchiveDir, in.RecordingID, Report(in.RecordingID)))
	if rep["expired_at"] != float64(in.ExpiredAt) || rep["stop_timestamp"] != timestamp(e.clock.Now()) {
		t.Errorf("report expired_at %v stop %v, want %d", rep["expired_at"], rep["stop_timestamp"], in.ExpiredAt)
	}
	validateFile(t, "report", filepath.Join(e.cfg.ArchiveDir, in.RecordingID, Report(in.RecordingID)))
}

func TestUnsupportedCodecFails(t *testing.T) {
	e := newEnv(t, nil, 0)
	fx := loadFixture(t, "h265_opus", "C1", time.Second)
	if _, err := e.m.SessionCreated("ch", "S1", nil); err != nil {
		t.Fatal(err)
	}
	src := &fakeSource{}
	e.m.ConnectionJoined("ch", fx.conn, src)
	in, err := e.m.StartRecording("ch", Options{Format: FormatWebM})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.m.StopRecording("ch"); err != nil {
		t.Fatal(err)
	}
	e.n.waitFor(t, "recording.report", 10*time.Second)
	if got := e.n.types(); !slices.Equal(got, []string{"recording.started", "archive.failed:C1", "recording.report"}) {
		t.Errorf("events %v", got)
	}
	rep := readJSON(t, filepath.Join(e.cfg.ArchiveDir, in.RecordingID, Report(in.RecordingID)))
	failed, _ := rep["failed_archives"].([]any)
	if len(failed) != 1 || failed[0].(map[string]any)["connection_id"] != "C1" {
		t.Errorf("failed_archives %v", rep["failed_archives"])
	}
}

// TestLateJoinerStartsOnAKeyframe adds a connection that starts mid-GOP
// after the recording started.
func TestLateJoinerStartsOnAKeyframe(t *testing.T) {
	e := newEnv(t, nil, 1<<15)
	fx := loadFixture(t, "vp8_opus_midgop", "C9", 4*time.Second)
	if _, err := e.m.SessionCreated("ch", "S1", nil); err != nil {
		t.Fatal(err)
	}
	in, err := e.m.StartRecording("ch", Options{})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(3 * time.Second)
	src := &fakeSource{}
	e.m.ConnectionJoined("ch", fx.conn, src)
	fx.play(src.subscribed(), e.clock.Now())
	e.clock.Advance(4 * time.Second)
	if _, err := e.m.StopRecording("ch"); err != nil {
		t.Fatal(err)
	}
	e.n.waitFor(t, "recording.report", 10*time.Second)
	dir := filepath.Join(e.cfg.ArchiveDir, in.RecordingID)
	meta := readJSON(t, filepath.Join(dir, ArchiveMeta("C9")))
	if meta["start_time_offset"] != float64(3) {
		t.Errorf("start_time_offset %v, want 3", meta["start_time_offset"])
	}
	stats := meta["stats"].(map[string]any)
	if stats["keyframe_waits"].(float64) < 1 || stats["keyframe_requests"].(float64) < 1 {
		t.Errorf("stats %v: want a keyframe wait and a request", stats)
	}
	if flags := firstVideoFlags(t, filepath.Join(dir, ArchiveMedia("C9", FormatWebM))); flags == "" || flags[0] != 'K' {
		t.Errorf("first video packet flags %q", flags)
	}
	src.mu.Lock()
	defer src.mu.Unlock()
	if src.keyframes < 1 {
		t.Error("no keyframe request reached the source")
	}
}

// blockingSource stalls the recorder goroutine in RequestKeyframe, as a
// stalled disk would, until released.
type blockingSource struct {
	fakeSource
	release chan struct{}
	once    sync.Once
}

func (s *blockingSource) Subscribe(sink Sink) (Subscription, error) {
	if _, err := s.fakeSource.Subscribe(sink); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *blockingSource) RequestKeyframe() { <-s.release }

func TestBackpressureDropsWithoutBlocking(t *testing.T) {
	e := newEnv(t, nil, 64)
	fx := loadFixture(t, "vp8_opus", "C1", 4*time.Second)
	if _, err := e.m.SessionCreated("ch", "S1", nil); err != nil {
		t.Fatal(err)
	}
	src := &blockingSource{release: make(chan struct{})}
	e.m.ConnectionJoined("ch", fx.conn, src)
	in, err := e.m.StartRecording("ch", Options{})
	if err != nil {
		t.Fatal(err)
	}
	sink := src.subscribed()
	rec := sink.(*Recorder)
	base := e.clock.Now()
	half := len(fx.packets) / 2
	done := make(chan struct{})
	go func() {
		defer close(done)
		fixture{packets: fx.packets[:half]}.play(sink, base)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the hand-off blocked the caller")
	}
	if rec.Dropped() == 0 {
		t.Fatal("nothing dropped while the recorder was stalled")
	}
	close(src.release)
	fixture{packets: fx.packets[half:]}.play(sink, base)
	e.clock.Advance(4 * time.Second)
	if _, err := e.m.StopRecording("ch"); err != nil {
		t.Fatal(err)
	}
	e.n.waitFor(t, "recording.report", 10*time.Second)
	meta := readJSON(t, filepath.Join(e.cfg.ArchiveDir, in.RecordingID, ArchiveMeta("C1")))
	stats := meta["stats"].(map[string]any)
	if stats["packets_dropped"] != float64(rec.Dropped()) {
		t.Errorf("packets_dropped %v, recorder dropped %d", stats["packets_dropped"], rec.Dropped())
	}
	found := false
	for _, g := range stats["gaps"].([]any) {
		found = found || g.(map[string]any)["cause"] == "backpressure"
	}
	if !found {
		t.Errorf("no backpressure gap in %v", stats["gaps"])
	}
}

// TestCloseDeliversAndStops closes the Manager mid-recording: the files
// and the report are delivered and every goroutine it started is gone.
func TestCloseDeliversAndStops(t *testing.T) {
	before := runtime.NumGoroutine()
	e := newEnv(t, nil, 1<<15)
	fx := loadFixture(t, "vp8_opus", "C1", 2*time.Second)
	if _, err := e.m.SessionCreated("ch", "S1", nil); err != nil {
		t.Fatal(err)
	}
	src := &fakeSource{}
	e.m.ConnectionJoined("ch", fx.conn, src)
	in, err := e.m.StartRecording("ch", Options{})
	if err != nil {
		t.Fatal(err)
	}
	rec := src.subscribed().(*Recorder)
	fx.play(rec, e.clock.Now())
	if err := e.m.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-rec.Done():
	default:
		t.Fatal("Close returned before the recorder finished")
	}
	if _, err := os.Stat(filepath.Join(e.cfg.ArchiveDir, in.RecordingID, Report(in.RecordingID))); err != nil {
		t.Errorf("no report after Close: %v", err)
	}
	if _, err := e.m.StartRecording("ch", Options{}); !errors.Is(err, ErrConflict) {
		t.Errorf("start after Close: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after Close, %d before", n, before)
	}
}
