package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kiroku-sfu/kiroku/test/judge"
)

// ffprobeCodec is the codec name ffprobe gives each codec_type.
var ffprobeCodec = map[string]string{"VP8": "vp8", "VP9": "vp9", "AV1": "av1", "H264": "h264", "H265": "hevc"}

// TestMixedCodecRoom is a room as real rooms are: sora-js-sdk pages
// publishing VP8, VP9, AV1 and H.264 and a pion client publishing H.265
// (Chromium cannot) in one channel. Every page decodes every other
// page's video in that page's codec; a page joining later and one leaving
// behave as in the single-codec tests; a recording gives one file per
// connection in its own codec: MP4 for all five, WebM for the four
// browser codecs (H.265 goes into MP4 only, and its WebM fails alone).
func TestMixedCodecRoom(t *testing.T) {
	hooks := &hookLog{}
	srv := startRecServer(t, hooks, "")
	const ch = "mixed-room"
	codecs := []string{"VP8", "VP9", "AV1", "H264"}
	var pages []*member
	for _, c := range codecs {
		pages = append(pages, srv.joinAt(t, strings.ToLower(c), ch, c, map[string]any{"name": c}))
	}
	hevc := startReplay(t, srv.ws, ch, "H265", "h265_opus")
	for i, rx := range pages {
		for j, tx := range pages {
			if i != j {
				expectFlow(t, rx, tx, codecs[j])
			}
		}
	}

	late := srv.joinAt(t, "late", ch, "VP9", map[string]any{"name": "late"})
	for i, tx := range pages {
		expectFlow(t, late, tx, codecs[i])
		expectFlow(t, tx, late, "VP9")
	}
	late.disconnect()
	for _, rx := range pages {
		expectRemoved(t, rx, late)
	}

	ids := []string{hevc.client.ConnectionID()}
	formats := map[string]string{hevc.client.ConnectionID(): "H265"}
	for i, p := range pages {
		ids = append(ids, p.id)
		formats[p.id] = codecs[i]
	}
	for _, format := range []string{"mp4", "webm"} {
		t.Run(format, func(t *testing.T) { recordMixed(t, srv, hooks, ch, format, formats, ids) })
	}
}

// recordMixed records the mixed room in format and judges each
// connection's file: its own codec, audio and video, a clean decode.
func recordMixed(t *testing.T, srv *recServer, hooks *hookLog, ch, format string, codecOf map[string]string, ids []string) {
	var rec recordingInfo
	srv.api(t, "Sora_20231220.StartRecording", map[string]any{"channel_id": ch, "format": format}, &rec)
	started := time.Now()
	const length = 6 * time.Second
	time.Sleep(time.Until(started.Add(length)))
	srv.api(t, "Sora_20231220.StopRecording", map[string]any{"channel_id": ch}, nil)
	hooks.waitHook(t, "recording.report", 30*time.Second, func(w webhook) bool { return w.data("recording_id") == rec.RecordingID })
	dir := filepath.Join(srv.archive, rec.RecordingID)
	for _, id := range ids {
		codec := codecOf[id]
		path := filepath.Join(dir, "archive-"+id+"."+format)
		if format == "webm" && codec == "H265" {
			if _, err := os.Stat(path); err == nil {
				t.Errorf("an H.265 connection was recorded into WebM: %s", path)
			}
			hooks.waitHook(t, "archive.failed", 10*time.Second, func(w webhook) bool {
				return w.data("recording_id") == rec.RecordingID && w.Body["connection_id"] == id
			})
			continue
		}
		hooks.waitHook(t, "archive.available", 10*time.Second, func(w webhook) bool {
			return w.data("recording_id") == rec.RecordingID && w.Body["connection_id"] == id
		})
		checkCodecFile(t, path, codec, length)
	}
}

// checkCodecFile judges one recorded file: video in codec (and audio),
// about length long, decoding without an error.
func checkCodecFile(t *testing.T, path, codec string, length time.Duration) {
	t.Helper()
	name := filepath.Base(path)
	p, err := judge.ProbeFile(path)
	if err != nil {
		t.Errorf("%s (%s): %v", name, codec, err)
		return
	}
	v, hasVideo := p.Stream("video")
	if _, hasAudio := p.Stream("audio"); !hasVideo || !hasAudio {
		t.Errorf("%s (%s): video %t audio %t, want both", name, codec, hasVideo, hasAudio)
		return
	}
	if v.CodecName != ffprobeCodec[codec] || v.Width == 0 {
		t.Errorf("%s: video %s %dx%d, want %s", name, v.CodecName, v.Width, v.Height, ffprobeCodec[codec])
	}
	if got := p.Format.Length(); got < length-1500*time.Millisecond || got > length+1500*time.Millisecond {
		t.Errorf("%s (%s) lasts %v, want %v ± 1.5 s", name, codec, got, length)
	}
	if msg, err := judge.DecodeErrors(path, v.CodecName); err != nil || msg != "" {
		t.Errorf("%s (%s) decode: %v %s", name, codec, err, msg)
	}
	// The pages capture at 15 fps; on two busy cores Chromium's fake
	// camera delivers fewer.
	frames, err := judge.FrameCount(path, "v", v.CodecName)
	if min := int(length.Seconds()) * 5; err != nil || frames < min {
		t.Errorf("%s (%s): %d frames decoded (%v), want at least %d", name, codec, frames, err, min)
	}
	t.Logf("%s: %s %dx%d, %v, %d frames", name, codec, v.Width, v.Height, p.Format.Length(), frames)
}
