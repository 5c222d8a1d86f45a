package e2e

import (
	"fmt"
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

	// H.265: a page whose browser decodes it gets its video; one that
	// cannot (its capability sdp lacks it) gets its audio alone, and the
	// SFU counts the refused stream.
	refused := 0
	for _, rx := range pages {
		waitFor(t, rx.name+" hearing the H.265 publisher", 30*time.Second, func() string {
			if st := rx.inbound()[hevc.client.ConnectionID()]; st.AudioPackets < 10 {
				return fmt.Sprintf("%+v", st)
			}
			return ""
		})
		if _, video := rx.state().Streams[hevc.client.ConnectionID()].Tracks["video"]; !video {
			refused++
		}
	}
	var stats map[string]any
	srv.api(t, "Sora_20171010.GetStatsReport", map[string]any{}, &stats)
	if got := stats["total_refused_streams"]; got != float64(refused) {
		t.Errorf("GetStatsReport total_refused_streams = %v, want %d (pages not decoding H.265)", got, refused)
	}
	t.Logf("%d of %d pages cannot decode H.265", refused, len(pages))

	late := srv.joinAt(t, "late", ch, "VP9", map[string]any{"name": "late"})
	for i, tx := range pages {
		expectFlow(t, late, tx, codecs[i])
		expectFlow(t, tx, late, "VP9")
	}
	late.disconnect()
	for _, rx := range pages {
		expectRemoved(t, rx, late)
	}

	room := mixedRoom{srv: srv, hooks: hooks, channel: ch, hevc: hevc.client.ConnectionID(), pages: pages, codecs: codecs}
	for _, format := range []string{"mp4", "webm"} {
		t.Run(format, func(t *testing.T) { room.record(t, format) })
	}
}

// mixedRoom is what a recording of the mixed room needs to know.
type mixedRoom struct {
	srv     *recServer
	hooks   *hookLog
	channel string
	hevc    string // the H.265 publisher's connection_id
	pages   []*member
	codecs  []string // of the pages
}

// record records the room in format and judges each connection's file:
// its own codec, audio and video, a clean decode, and about as many
// frames as the publisher encoded meanwhile (the replayed H.265 capture
// has 30 a second).
func (r mixedRoom) record(t *testing.T, format string) {
	var rec recordingInfo
	before := r.framesEncoded(t)
	r.srv.api(t, "Sora_20231220.StartRecording", map[string]any{"channel_id": r.channel, "format": format}, &rec)
	started := time.Now()
	const length = 6 * time.Second
	time.Sleep(time.Until(started.Add(length)))
	r.srv.api(t, "Sora_20231220.StopRecording", map[string]any{"channel_id": r.channel}, nil)
	after := r.framesEncoded(t)
	r.hooks.waitHook(t, "recording.report", 30*time.Second, func(w webhook) bool { return w.data("recording_id") == rec.RecordingID })
	dir := filepath.Join(r.srv.archive, rec.RecordingID)
	if format == "webm" {
		path := filepath.Join(dir, "archive-"+r.hevc+".webm")
		if _, err := os.Stat(path); err == nil {
			t.Errorf("an H.265 connection was recorded into WebM: %s", path)
		}
		r.hooks.waitHook(t, "archive.failed", 10*time.Second, func(w webhook) bool {
			return w.data("recording_id") == rec.RecordingID && w.Body["connection_id"] == r.hevc
		})
	} else {
		// A replayed capture cannot answer a keyframe request: the file
		// starts at the capture's next keyframe, up to its 2 s keyframe
		// interval (60 frames) after StartRecording.
		r.judge(t, rec.RecordingID, r.hevc, "H265", format, int((length.Seconds()-2)*30))
	}
	for i, p := range r.pages {
		r.judge(t, rec.RecordingID, p.id, r.codecs[i], format, after[i]-before[i])
	}
}

// judge checks one connection's file of a recording; sent is how many
// frames the publisher encoded while it ran. The recording starts at the
// first keyframe after StartRecording (asked for at once) and ends at
// StopRecording: a second of frames may fall outside.
func (r mixedRoom) judge(t *testing.T, recordingID, id, codec, format string, sent int) {
	t.Helper()
	r.hooks.waitHook(t, "archive.available", 10*time.Second, func(w webhook) bool {
		return w.data("recording_id") == recordingID && w.Body["connection_id"] == id
	})
	path := filepath.Join(r.srv.archive, recordingID, "archive-"+id+"."+format)
	frames := checkCodecFile(t, path, codec, 6*time.Second)
	if min := sent*8/10 - 15; frames < min {
		t.Errorf("%s (%s): %d frames in the file, the publisher encoded %d meanwhile", filepath.Base(path), codec, frames, sent)
	}
}

// framesEncoded returns how many video frames each page has encoded.
func (r mixedRoom) framesEncoded(t *testing.T) []int {
	t.Helper()
	out := make([]int, len(r.pages))
	for i, p := range r.pages {
		var layers []outboundLayer
		if err := p.p.call("outbound", nil, &layers); err != nil {
			t.Fatal(err)
		}
		for _, l := range layers {
			out[i] += l.FramesEncoded
		}
	}
	return out
}

// checkCodecFile judges one recorded file: video in codec (and audio),
// about length long, decoding without an error. It returns the frames
// decoded.
func checkCodecFile(t *testing.T, path, codec string, length time.Duration) int {
	t.Helper()
	name := filepath.Base(path)
	p, err := judge.ProbeFile(path)
	if err != nil {
		t.Errorf("%s (%s): %v", name, codec, err)
		return 0
	}
	v, hasVideo := p.Stream("video")
	if _, hasAudio := p.Stream("audio"); !hasVideo || !hasAudio {
		t.Errorf("%s (%s): video %t audio %t, want both", name, codec, hasVideo, hasAudio)
		return 0
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
	frames, err := judge.FrameCount(path, "v", v.CodecName)
	if err != nil || frames == 0 {
		t.Errorf("%s (%s): %d frames decoded (%v)", name, codec, frames, err)
	}
	t.Logf("%s: %s %dx%d, %v, %d frames", name, codec, v.Width, v.Height, p.Format.Length(), frames)
	return frames
}
