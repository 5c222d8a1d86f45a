package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kiroku-sfu/kiroku/test/judge"
)

// maxMoveStall is the longest a viewer may go without a new frame while
// the SFU moves it to another simulcast layer. On a loaded machine the
// video stalls without any move too: a longer gap is a failure only when
// it is also maxMoveSlack longer than the longest gap of the same span
// without a move, just before.
const (
	maxMoveStall = 500 * time.Millisecond
	maxMoveSlack = 150 * time.Millisecond
)

// TestSimulcastRoom is a conference of simulcast publishers that also
// receive: four sendrecv pages with simulcast: true join one after
// another, and each decodes the three others (every page is re-offered
// the later ones, with its own layers listed once); two leave. A viewer
// moved between r0 and r2 again and again never stalls longer than
// maxMoveStall. VP8 and H.264, the codecs Chromium sends simulcast in.
func TestSimulcastRoom(t *testing.T) {
	for _, codec := range []string{"VP8", "H264"} {
		t.Run(codec, func(t *testing.T) { testSimulcastRoom(t, codec) })
	}
}

func testSimulcastRoom(t *testing.T, codec string) {
	ch := "simulcast-room-" + strings.ToLower(codec)
	var pages []*member
	for i := 0; i < 4; i++ {
		name := fmt.Sprintf("p%d", i)
		// 960x540 is the smallest camera Chromium sends three layers
		// of: four pages encoding them and decoding three others fit
		// on two cores at 10 fps.
		pages = append(pages, joinWith(t, name, connectArgs{SignalingURL: shared.ws, ChannelID: ch, Role: "sendrecv",
			Codec: codec, Metadata: map[string]string{"name": name}, Audio: true, Video: true, Simulcast: true,
			Capture: &captureMode{Width: 960, Height: 540, FrameRate: 10}}))
	}
	for _, rx := range pages {
		for _, tx := range pages {
			if rx != tx {
				expectFlow(t, rx, tx, codec)
			}
		}
	}
	// Two pages leave (their tracks end at the others); the moves are
	// timed between the two left, so that four encoders of three layers
	// each do not make the publisher itself stall on two cores.
	rx, tx := pages[0], pages[3]
	for _, gone := range pages[1:3] {
		gone.disconnect()
		expectRemoved(t, rx, gone)
		expectRemoved(t, tx, gone)
	}
	expectFlow(t, rx, tx, codec)
	expectWidth(t, rx, tx, 240)
	for i, move := range []struct {
		rid   string
		width int
	}{{"r2", 960}, {"r0", 240}, {"r2", 960}, {"r0", 240}} {
		// The same span without a move, just before: what the machine
		// itself does to the video now (two cores, four Chromium
		// encoders).
		still, err := decodeWindow(rx, tx, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		var ok bool
		if err := rx.p.call("watchDecode", map[string]string{"streamId": tx.id}, &ok); err != nil || !ok {
			t.Fatalf("watch %s: %v", tx.name, err)
		}
		if err := shared.sfu.RequestSimulcastRID(ch, rx.id, tx.id, move.rid); err != nil {
			t.Fatal(err)
		}
		expectWidth(t, rx, tx, move.width)
		time.Sleep(time.Second)
		var g frameGaps
		if err := rx.p.call("decodeGaps", nil, &g); err != nil {
			t.Fatal(err)
		}
		t.Logf("move %d to %s: longest gap between decoded frames %.0f ms over %d frames (%.0f ms without a move)",
			i, move.rid, g.MaxGapMs, g.Frames, still.MaxGapMs)
		gap := time.Duration(g.MaxGapMs * float64(time.Millisecond))
		ownGap := time.Duration(still.MaxGapMs * float64(time.Millisecond))
		if gap > maxMoveStall && gap > ownGap+maxMoveSlack {
			t.Errorf("move %d to %s: %s's video stalled %v, want at most %v (or %v past the %v seen without a move)",
				i, move.rid, rx.name, gap, maxMoveStall, maxMoveSlack, ownGap)
		}
	}
}

// decodeWindow watches rx decode tx's video for d.
func decodeWindow(rx, tx *member, d time.Duration) (frameGaps, error) {
	var g frameGaps
	var ok bool
	if err := rx.p.call("watchDecode", map[string]string{"streamId": tx.id}, &ok); err != nil {
		return g, err
	}
	time.Sleep(d)
	err := rx.p.call("decodeGaps", nil, &g)
	return g, err
}

// frameGaps is how one remote video decoded while a page watched it.
type frameGaps struct {
	MaxGapMs float64 `json:"maxGapMs"`
	Frames   int     `json:"frames"`
}

// TestRecordingSimulcastPause records a simulcast sendrecv publisher
// whose r2 layer stops for a while (as a browser stops it when its
// bandwidth falls) and comes back: the recorder moves down and up at
// keyframes, the file decodes without an error, and the metadata reports
// the layer changes.
func TestRecordingSimulcastPause(t *testing.T) {
	hooks := &hookLog{}
	srv := startRecServer(t, hooks, "")
	for _, tc := range []struct{ codec, format string }{{"VP8", "webm"}, {"H264", "mp4"}} {
		t.Run(tc.codec, func(t *testing.T) { recordSimulcastPause(t, srv, hooks, tc.codec, tc.format) })
	}
}

func recordSimulcastPause(t *testing.T, srv *recServer, hooks *hookLog, codec, format string) {
	ch := "rec-simulcast-pause-" + strings.ToLower(codec)
	var pages []*member
	for _, name := range []string{"a", "b"} {
		p := openPage(t)
		var res connectResult
		if err := p.call("connect", connectArgs{SignalingURL: srv.ws, ChannelID: ch, Role: "sendrecv", Codec: codec,
			Metadata: map[string]any{"name": name}, Audio: true, Video: true, Simulcast: true,
			Capture: &captureMode{Width: 960, Height: 540, FrameRate: 15}}, &res); err != nil || res.ConnectionID == "" {
			t.Fatalf("%s connect: %v %+v", name, err, res)
		}
		pages = append(pages, &member{t: t, name: name, p: p, id: res.ConnectionID, role: "sendrecv"})
	}
	a := pages[0]
	expectFlow(t, pages[1], a, codec)
	waitSendingLayer(t, a, "r2", 960)

	var rec recordingInfo
	srv.api(t, "Sora_20231220.StartRecording", map[string]any{"channel_id": ch, "format": format}, &rec)
	started := time.Now()
	time.Sleep(3 * time.Second)
	setLayer(t, a, "r2", false)
	time.Sleep(3 * time.Second)
	setLayer(t, a, "r2", true)
	waitLayerFlowing(t, a, "r2")
	time.Sleep(4 * time.Second)
	length := time.Since(started)
	srv.api(t, "Sora_20231220.StopRecording", map[string]any{"channel_id": ch}, nil)
	hooks.waitHook(t, "archive.available", 15*time.Second, func(w webhook) bool {
		return w.data("recording_id") == rec.RecordingID && w.Body["connection_id"] == a.id
	})
	dir := filepath.Join(srv.archive, rec.RecordingID)
	path := filepath.Join(dir, "archive-"+a.id+"."+format)
	checkCodecFile(t, path, codec, length)
	if msg, err := judge.DecodeErrors(path, ""); err != nil || msg != "" {
		t.Errorf("decode: %v %s", err, msg)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "archive-"+a.id+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var meta struct {
		Stats struct {
			SimulcastLayerChanges int `json:"simulcast_layer_changes"`
		} `json:"stats"`
	}
	if err := json.Unmarshal(raw, &meta); err != nil {
		t.Fatalf("archive json: %v", err)
	}
	if n := meta.Stats.SimulcastLayerChanges; n < 2 {
		t.Errorf("simulcast_layer_changes = %d, want at least 2 (down when r2 stopped, up when it came back)", n)
	}
}

// setLayer pauses or resumes a page's simulcast layer.
func setLayer(t *testing.T, m *member, rid string, active bool) {
	t.Helper()
	var ok bool
	if err := m.p.call("setLayerActive", map[string]any{"rid": rid, "active": active}, &ok); err != nil || !ok {
		t.Fatalf("%s set %s active=%t: %v", m.name, rid, active, err)
	}
}

// waitSendingLayer waits until the page encodes layer rid at width.
func waitSendingLayer(t *testing.T, m *member, rid string, width int) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%s sending %s", m.name, rid), 30*time.Second, func() string {
		var out []outboundLayer
		if err := m.p.call("outbound", nil, &out); err != nil {
			return err.Error()
		}
		for _, l := range out {
			if l.RID == rid && l.FrameWidth == width && l.FramesEncoded > 0 {
				return ""
			}
		}
		return fmt.Sprintf("sends %+v", out)
	})
}

// waitLayerFlowing waits until the page encodes frames of layer rid
// again: its count grows between two looks.
func waitLayerFlowing(t *testing.T, m *member, rid string) {
	t.Helper()
	encoded := func() int {
		var out []outboundLayer
		if err := m.p.call("outbound", nil, &out); err != nil {
			t.Fatal(err)
		}
		for _, l := range out {
			if l.RID == rid {
				return l.FramesEncoded
			}
		}
		return 0
	}
	last := encoded()
	waitFor(t, fmt.Sprintf("%s encoding %s again", m.name, rid), 30*time.Second, func() string {
		n := encoded()
		if n > last+2 {
			return ""
		}
		last = n
		return fmt.Sprintf("%d frames", n)
	})
}
