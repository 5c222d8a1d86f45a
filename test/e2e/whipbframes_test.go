package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"

	"github.com/kiroku-sfu/kiroku/loadgen"
	"github.com/kiroku-sfu/kiroku/test/judge"
)

// bframeAccessUnits encodes 4 s of 320x240 H.264 high profile with
// B-frames, as OBS sends when its encoder's B-frames are left on, and
// returns its access units in decode order (Annex B, one per AUD).
func bframeAccessUnits(t *testing.T) [][]byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "bframes.h264")
	cmd := exec.Command("ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=30", "-t", "4",
		"-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high", "-bf", "2", "-g", "30", "-pix_fmt", "yuv420p",
		"-x264-params", "aud=1", "-f", "h264", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, b)
	}
	stream, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	aud := []byte{0, 0, 0, 1, 0x09}
	var aus [][]byte
	for len(stream) > 0 {
		next := bytes.Index(stream[len(aud):], aud)
		if next < 0 {
			aus = append(aus, stream)
			break
		}
		aus = append(aus, stream[:next+len(aud)])
		stream = stream[next+len(aud):]
	}
	if len(aus) < 100 {
		t.Fatalf("%d access units from ffmpeg", len(aus))
	}
	return aus
}

// TestWHIPBFramesFailCleanly publishes H.264 with B-frames over WHIP into
// a recorded channel: kiroku does not write B-frames (no composition
// offsets), so the archive holds the audio alone, its JSON says why
// (stats.video_failure "unsupported_stream"), and the file is not broken.
func TestWHIPBFramesFailCleanly(t *testing.T) {
	const channel = "whip-bframes"
	aus := bframeAccessUnits(t)
	var audio []replayPacket
	for _, p := range loadCapture(t, "h264_high_opus.rtpdump") {
		if p.audio {
			audio = append(audio, p)
		}
	}
	hooks := &hookLog{sessionReply: map[string]string{channel: `{"recording":true}`}}
	srv := startRecServer(t, hooks, "default_recording_format = mp4\n")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	client, err := loadgen.Dial(ctx, loadgen.ClientConfig{URL: whipEndpoint(srv.ws, "whip", channel), WHIP: true,
		Role: loadgen.RoleSendonly, LocalAddress: clientAddress, VideoCodec: "H264", Audio: true})
	if err != nil {
		t.Fatalf("WHIP publisher: %v", err)
	}
	defer client.Close()
	started := hooks.waitHook(t, "recording.started", 10*time.Second, func(webhook) bool { return true })
	sendBFrames(client, aus, audio)
	if err := client.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	rid, id := started.data("recording_id"), client.ConnectionID()
	hooks.waitHook(t, "connection.destroyed", 10*time.Second, func(w webhook) bool { return w.Body["connection_id"] == id })
	// The session ends with its only connection, and so does its recording.
	hooks.waitHook(t, "recording.report", 30*time.Second, func(w webhook) bool { return w.data("recording_id") == rid })

	raw, err := os.ReadFile(filepath.Join(srv.archive, rid, "archive-"+id+".json"))
	if err != nil {
		t.Fatalf("archive JSON: %v", err)
	}
	var meta struct {
		Stats struct {
			VideoFailure string `json:"video_failure"`
		} `json:"stats"`
	}
	if err := json.Unmarshal(raw, &meta); err != nil || meta.Stats.VideoFailure != "unsupported_stream" {
		t.Fatalf("archive JSON stats.video_failure %q (%v), want unsupported_stream:\n%s", meta.Stats.VideoFailure, err, raw)
	}
	path := filepath.Join(srv.archive, rid, "archive-"+id+".mp4")
	p, err := judge.ProbeFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, hasVideo := p.Stream("video"); hasVideo {
		t.Errorf("%s has a video stream of a B-frame encoder", filepath.Base(path))
	}
	if a, hasAudio := p.Stream("audio"); !hasAudio || a.Length() < 2*time.Second {
		t.Errorf("%s: audio %v (%v), want the publisher's audio", filepath.Base(path), hasAudio, a.Length())
	}
	if msg, err := judge.DecodeErrors(path, ""); err != nil || msg != "" {
		t.Errorf("%s does not decode cleanly: %v %s", filepath.Base(path), err, msg)
	}
}

// sendBFrames sends the access units at 30 a second with the capture's
// audio beside them, in real time.
func sendBFrames(c *loadgen.Client, aus [][]byte, audio []replayPacket) {
	var pay codecs.H264Payloader
	start := time.Now()
	next := 0
	seq := uint16(1)
	for i, au := range aus {
		at := time.Duration(i) * time.Second / 30
		for next < len(audio) && audio[next].at <= at {
			pkt := audio[next].pkt
			_ = c.WriteAudioRTP(&pkt)
			next++
		}
		time.Sleep(time.Until(start.Add(at)))
		payloads := pay.Payload(1200, au)
		for j, p := range payloads {
			_ = c.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: uint32(i) * 3000,
				Marker: j == len(payloads)-1}, Payload: p})
			seq++
		}
	}
}
