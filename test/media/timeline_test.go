package media

import (
	"testing"
	"time"

	"github.com/kiroku-sfu/kiroku/test/judge"
)

// timeline is where a file's tracks sit on its own timeline.
type timeline struct {
	VideoFirst, VideoEnd time.Duration // first frame, last frame + one frame
	AudioFirst, AudioEnd time.Duration // first packet, last packet + 20 ms
	AudioMaxStep         time.Duration // longest step between audio packets
	AudioPackets         int
}

// fileTimeline reads the timeline of a file from its decoded video frames
// and its audio packets as the demuxer reports them.
func fileTimeline(t *testing.T, path string, frames []decodedFrame) timeline {
	t.Helper()
	audio, err := judge.PacketTimes(path, "a")
	if err != nil {
		t.Fatal(err)
	}
	if len(frames) == 0 || len(audio) == 0 {
		t.Fatalf("%s: %d video frames, %d audio packets", path, len(frames), len(audio))
	}
	tl := timeline{
		VideoFirst: frames[0].PTS, VideoEnd: frames[len(frames)-1].PTS + frameDur,
		AudioFirst: audio[0], AudioEnd: audio[len(audio)-1] + opusFrame, AudioPackets: len(audio),
	}
	for i := 1; i < len(audio); i++ {
		tl.AudioMaxStep = max(tl.AudioMaxStep, audio[i]-audio[i-1])
	}
	return tl
}

// expectedVideo returns where the written video should start and end on
// the capture's clock: the captured span, less a reported gap at its start
// (frames before the first keyframe, or a loss there) and at its end (a
// loss with no keyframe after it).
func expectedVideo(facts captureFacts, sum muxSummary) (start, end time.Duration) {
	start, end = facts.VideoStart, facts.VideoEnd
	zero := min(facts.VideoStart, facts.AudioStart)
	for _, g := range sum.Gaps {
		off := zero + time.Duration(g.OffsetMS)*time.Millisecond
		stop := off + time.Duration(g.DurationMS)*time.Millisecond
		if g.Kind != "video" {
			continue
		}
		if off <= start+frameDur/2 {
			start = max(start, stop)
		}
		if stop >= end-frameDur/2 {
			end = min(end, off)
		}
	}
	return start, end
}

// checkTimeline compares a file's timeline with the capture's: file
// duration within one frame, video span within one frame, audio span and
// the A/V start offset within 20 ms, silences kept as silences, and every
// audio packet that arrived written (audio needs no keyframe, so a loss
// costs only the lost packets).
func checkTimeline(t *testing.T, facts captureFacts, sum muxSummary, p *judge.Probe, tl timeline) {
	t.Helper()
	vStart, vEnd := expectedVideo(facts, sum)
	span := max(vEnd, facts.AudioEnd) - min(vStart, facts.AudioStart)
	if d := p.Format.Length(); absDur(d-span) > frameDur {
		t.Errorf("file duration %v, capture spans %v", d, span)
	}
	if got, want := tl.VideoEnd-tl.VideoFirst, vEnd-vStart; absDur(got-want) > frameDur {
		t.Errorf("video spans %v in the file, %v in the capture", got, want)
	}
	if got, want := tl.AudioEnd-tl.AudioFirst, facts.AudioEnd-facts.AudioStart; absDur(got-want) > avTolerance {
		t.Errorf("audio spans %v in the file, %v on the RTP timeline", got, want)
	}
	if got, want := tl.VideoFirst-tl.AudioFirst, vStart-facts.AudioStart; absDur(got-want) > avTolerance {
		t.Errorf("video starts %v after audio in the file, %v in the capture (by %s)",
			got, want, map[bool]string{true: "sender reports", false: "arrival"}[facts.BySR])
	}
	if tl.AudioPackets != facts.AudioPackets || sum.AudioFrames != facts.AudioPackets {
		t.Errorf("%d audio packets in the file (summary: %d), %d captured", tl.AudioPackets, sum.AudioFrames, facts.AudioPackets)
	}
	if absDur(tl.AudioMaxStep-facts.AudioMaxStep) > avTolerance {
		t.Errorf("longest audio step %v in the file, %v in the capture", tl.AudioMaxStep, facts.AudioMaxStep)
	}
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
