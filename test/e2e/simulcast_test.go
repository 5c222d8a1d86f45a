package e2e

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/kiroku-sfu/kiroku/test/judge"
)

// TestSimulcast: a sora-js-sdk page publishing with simulcast: true
// sends three layers (r0 320x180, r1 640x360, r2 1280x720); each viewer
// decodes the layer it asked for (simulcast_rid, r0 by default), and
// RequestSimulcastRid moves a viewer to another layer while it keeps
// decoding. VP8 and H.264: the codecs Chromium sends simulcast in (its
// AV1 and VP9 encoders give one layer).
func TestSimulcast(t *testing.T) {
	for _, codec := range []string{"VP8", "H264"} {
		t.Run(codec, func(t *testing.T) { testSimulcast(t, codec) })
	}
}

func testSimulcast(t *testing.T, codec string) {
	ch := "simulcast-" + codec
	args := func(name, role, rid string) connectArgs {
		return connectArgs{SignalingURL: shared.ws, ChannelID: ch, Role: role, Codec: codec,
			Metadata: map[string]string{"name": name}, Audio: true, Video: true, Simulcast: true, SimulcastRID: rid}
	}
	a := joinWith(t, "a", args("a", "sendonly", ""))
	low := joinWith(t, "low", args("low", "recvonly", ""))
	high := joinWith(t, "high", args("high", "recvonly", "r2"))
	var encodings int
	if err := a.p.eval("kiroku.videoEncodings()", &encodings); err != nil {
		t.Fatal(err)
	}
	if encodings != 3 {
		t.Fatalf("the simulcast page's video sender has %d encodings, want 3", encodings)
	}
	expectFlow(t, low, a, codec)
	expectFlow(t, high, a, codec)
	expectWidth(t, low, a, 320)
	expectWidth(t, high, a, 1280)

	if err := shared.sfu.RequestSimulcastRID(ch, low.id, a.id, "r1"); err != nil {
		t.Fatal(err)
	}
	expectWidth(t, low, a, 640)
	expectFlow(t, low, a, codec)
	expectSwitched(t, low, a, "r0", "r1", "higher")
	if err := shared.sfu.RequestSimulcastRID(ch, high.id, "", "r0"); err != nil {
		t.Fatal(err)
	}
	expectWidth(t, high, a, 320)
	expectFlow(t, high, a, codec)
	expectSwitched(t, high, a, "r2", "r0", "lower")
}

// expectSwitched waits for rx's simulcast.switched notify about tx's
// video moving from previous to current at rx's request. When the
// publisher stopped sending previous for a while before (its bandwidth
// fell: a sender-triggered notify moved rx to the nearest layer), the
// move starts from that layer instead, and the same priority holds.
func expectSwitched(t *testing.T, rx, tx *member, previous, current, priority string) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%s notified of %s moving %s to %s", rx.name, tx.name, previous, current), 10*time.Second, func() string {
		var got []map[string]any
		last, fellBack := "", false // the layer of the notifies so far
		for _, n := range rx.state().Notifies {
			if n["event_type"] != "simulcast.switched" || n["sender_connection_id"] != tx.id {
				continue
			}
			got = append(got, n)
			from, _ := n["previous_rid"].(string)
			if (from == previous || fellBack) && (last == "" || from == last) && n["current_rid"] == current &&
				n["request_rid"] == current && n["trigger"] == "receiver" && n["priority"] == priority {
				return ""
			}
			fellBack = fellBack || n["trigger"] == "sender" // a layer paused meanwhile
			last, _ = n["current_rid"].(string)
		}
		return fmt.Sprintf("simulcast.switched notifies %v", got)
	})
}

// TestSimulcastRPC: a viewer using DataChannel signaling moves itself to
// another layer with the JSON-RPC method the offer lists, over the "rpc"
// DataChannel, as sora-js-sdk's rpc() sends it.
func TestSimulcastRPC(t *testing.T) {
	const ch = "simulcast-rpc"
	a := joinWith(t, "a", connectArgs{SignalingURL: shared.ws, ChannelID: ch, Role: "sendonly", Codec: "VP8",
		Metadata: map[string]string{"name": "a"}, Audio: true, Video: true, Simulcast: true})
	v := joinWith(t, "v", connectArgs{SignalingURL: shared.ws, ChannelID: ch, Role: "recvonly", Codec: "VP8",
		Metadata: map[string]string{"name": "v"}, Audio: true, Video: true, Simulcast: true, DataChannelSignaling: true})
	expectFlow(t, v, a, "VP8")
	expectWidth(t, v, a, 320)
	type rpcResult struct {
		Result map[string]any `json:"result"`
		Error  string         `json:"error"`
	}
	var res rpcResult
	if err := v.p.call("rpc", map[string]any{"method": "2025.2.0/RequestSimulcastRid",
		"params": map[string]any{"rid": "r2", "sender_connection_id": a.id}}, &res); err != nil || res.Error != "" || res.Result == nil {
		t.Fatalf("rpc RequestSimulcastRid: %v %+v", err, res)
	}
	expectWidth(t, v, a, 1280)
	expectSwitched(t, v, a, "r0", "r2", "higher")
	res = rpcResult{}
	if err := v.p.call("rpc", map[string]any{"method": "2025.2.0/RequestSimulcastRid",
		"params": map[string]any{"rid": "r7"}}, &res); err != nil || res.Error == "" {
		t.Fatalf("rpc RequestSimulcastRid with rid r7 did not fail: %v %+v", err, res)
	}
}

// expectWidth waits until rx decodes tx's video at width pixels.
func expectWidth(t *testing.T, rx, tx *member, width int) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%s decoding %s at width %d", rx.name, tx.name, width), 30*time.Second, func() string {
		if w := rx.inbound()[tx.id].FrameWidth; w != width {
			var out []outboundLayer
			_ = tx.p.call("outbound", nil, &out)
			return fmt.Sprintf("width %d; %s sends %+v", w, tx.name, out)
		}
		return ""
	})
}

// outboundLayer is one simulcast layer a page sends.
type outboundLayer struct {
	RID                     string `json:"rid"`
	FrameWidth              int    `json:"frameWidth"`
	FramesEncoded           int    `json:"framesEncoded"`
	QualityLimitationReason string `json:"qualityLimitationReason"`
}

// TestRecordingSimulcast records a simulcast publisher: the file holds
// one video track at the highest layer (1280 wide), valid and decodable,
// whichever layer viewers get.
func TestRecordingSimulcast(t *testing.T) {
	hooks := &hookLog{}
	srv := startRecServer(t, hooks, "default_recording_format = webm\n")
	const channel = "rec-simulcast"
	p := openPage(t)
	var res connectResult
	if err := p.call("connect", connectArgs{SignalingURL: srv.ws, ChannelID: channel, Role: "sendonly", Codec: "VP8",
		Metadata: map[string]any{"name": "a"}, Audio: true, Video: true, Simulcast: true}, &res); err != nil || res.ConnectionID == "" {
		t.Fatalf("connect: %v %+v", err, res)
	}
	// The recorder starts at r2's first keyframe when r2 flows (else at the
	// layer that does, moving up later): wait until the browser sends it.
	waitFor(t, "publisher sending r2", 30*time.Second, func() string {
		var out []outboundLayer
		if err := p.call("outbound", nil, &out); err != nil {
			return err.Error()
		}
		for _, l := range out {
			if l.RID == "r2" && l.FrameWidth == 1280 && l.FramesEncoded > 0 {
				return ""
			}
		}
		return fmt.Sprintf("sends %+v", out)
	})
	var rec recordingInfo
	srv.api(t, "Sora_20231220.StartRecording", map[string]any{"channel_id": channel, "format": "webm"}, &rec)
	started := time.Now()
	const length = 6 * time.Second
	time.Sleep(time.Until(started.Add(length)))
	srv.api(t, "Sora_20231220.StopRecording", map[string]any{"channel_id": channel}, nil)
	hooks.waitHook(t, "archive.available", 15*time.Second, func(w webhook) bool {
		return w.data("recording_id") == rec.RecordingID && w.Body["connection_id"] == res.ConnectionID
	})
	path := filepath.Join(srv.archive, rec.RecordingID, "archive-"+res.ConnectionID+".webm")
	checkMedia(t, path, length, 1500*time.Millisecond)
	probe, err := judge.ProbeFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := probe.Stream("video"); !ok || v.Width != 1280 || len(probe.Streams) != 2 {
		t.Fatalf("recorded video %+v (%d streams), want one video stream 1280 wide and audio", v, len(probe.Streams))
	}
}
