package sfu

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"github.com/kiroku-sfu/kiroku/mux"
	"github.com/kiroku-sfu/kiroku/mux/codec"
	"github.com/kiroku-sfu/kiroku/mux/remux"
	"github.com/kiroku-sfu/kiroku/mux/rtpmux"
	"github.com/kiroku-sfu/kiroku/test/judge"
)

// muxSink records what a subscription delivers of the video into a
// file, as the recorder does, and counts the layer changes it is told of.
type muxSink struct {
	m    *rtpmux.Muxer
	base time.Time

	mu       sync.Mutex
	rid      string
	changes  int
	packets  int
	writeErr error
	closed   chan struct{}
}

func newMuxSink(t *testing.T, path string, mc mux.Codec, format remux.Format, base time.Time) *muxSink {
	t.Helper()
	dep, err := codec.NewDepacketizer(mc, "")
	if err != nil {
		t.Fatal(err)
	}
	s := &muxSink{base: base, closed: make(chan struct{})}
	info := &mux.TrackInfo{Codec: mc, ClockRate: 90000}
	s.m, err = rtpmux.New(rtpmux.Config{Video: info, VideoDepacketizer: dep,
		NewWriter: func(video, audio *mux.TrackInfo) (mux.Writer, error) {
			f, err := os.Create(path)
			if err != nil {
				return nil, err
			}
			return remux.NewWriter(format, f, video, audio, remux.WriterOptions{})
		}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (s *muxSink) WriteRTP(t TrackInfo, p *rtp.Packet, arrival time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rid != "" && t.RID != s.rid {
		s.changes++
	}
	s.rid = t.RID
	s.packets++
	if err := s.m.WritePacket(mux.Video, p, arrival.Sub(s.base)); err != nil && s.writeErr == nil {
		s.writeErr = err
	}
}

func (s *muxSink) WriteSenderReport(_ TrackInfo, sr *rtcp.SenderReport, _ time.Time) {
	s.m.WriteSenderReport(mux.Video, sr.SSRC, sr.NTPTime, sr.RTPTime)
}

func (s *muxSink) PublisherClosed() { close(s.closed) }

// TestSimulcastRecordingFollowsLayers replays a simulcast publisher whose
// r2 pauses from 2 s to 4 s (a browser short of bandwidth) into the
// recorder's subscription: the recording falls back to r1, the highest
// layer still flowing, and returns to r2, each change a clean cut; the
// file (MP4 with VP8 and H.264, WebM with VP8) decodes with no error, its timestamps strictly increase, and the
// sink was told of both changes.
func TestSimulcastRecordingFollowsLayers(t *testing.T) {
	for _, tc := range []struct {
		codec   string
		mc      mux.Codec
		format  remux.Format
		configs int // MP4: sample descriptions added; WebM: size changes
	}{{"vp8", mux.VP8, remux.MP4, 1}, {"h264", mux.H264, remux.MP4, 1}, {"vp8", mux.VP8, remux.WebM, 2}} {
		t.Run(tc.codec+"-"+string(tc.format), func(t *testing.T) {
			s := newTestSFUWith(t, func(c *Config) { c.SinkQueue = 1 << 14 })
			c, err := s.Join(JoinRequest{ChannelID: "ch", ConnectionID: NewID(), Role: SendOnly, Video: true,
				VideoCodec: Codec(map[string]string{"vp8": "VP8", "h264": "H264"}[tc.codec]), Simulcast: true, Peer: newFakePeer()})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = c.Close() })
			const frames = 6 * replayFPS
			r := newSimulcastReplay(t, c, tc.codec, frames)
			path := filepath.Join(t.TempDir(), "rec."+string(tc.format))
			sink := newMuxSink(t, path, tc.mc, tc.format, r.base)
			sub, err := s.Subscribe(c.ID(), sink)
			if err != nil {
				t.Fatal(err)
			}
			r2Paused := func(l, i int) bool { return l == 2 && i >= 2*replayFPS && i < 4*replayFPS }
			r.play(0, frames, r2Paused)
			eventually(t, "the sink's queue drained", 5*time.Second, func() bool { return len(sub.queue) == 0 })
			time.Sleep(50 * time.Millisecond) // the last event handed over
			_ = sub.Close()
			sum, err := sink.m.Close()
			if err != nil || sink.writeErr != nil {
				t.Fatalf("mux: %v, %v", err, sink.writeErr)
			}
			// In MP4, r2 → r1 adds a sample description and back to r2
			// takes the first one again.
			if sink.changes != 2 || sum.ConfigChanges != tc.configs {
				t.Errorf("%d layer changes told, %d configuration changes; want 2 and %d", sink.changes, sum.ConfigChanges, tc.configs)
			}
			judgeRecording(t, path, tc.codec, sum)
		})
	}
}

// judgeRecording decodes the file with ffmpeg: no error, the frames of
// r2 (0–2 s and 4–6 s) and of r1 from its first keyframe after r2 went
// stale (2.5 s), every one written, timestamps strictly increasing.
func judgeRecording(t *testing.T, path, videoCodec string, sum mux.Summary) {
	t.Helper()
	n, times := judgeCuts(t, path, videoCodec, sum)
	// 60 + 45 + 60, and the frame of the cut back to r2 in both layers.
	if n < 165 || n > 166 {
		t.Errorf("%d frames decoded, want 165 or 166", n)
	}
	// The layers' sender reports place each cut: the timeline stays the
	// capture's (a cut whose keyframe shows a moment already written
	// follows it by 1 ms), so audio would stay aligned.
	want := time.Duration(6*replayFPS-1) * time.Second / replayFPS
	if span := times[len(times)-1] - times[0]; span < want || span > want+3*time.Millisecond {
		t.Errorf("frames span %v, want %v (+ at most 3 ms)", span, want)
	}
}

// judgeCuts decodes a recording with ffmpeg and checks what clean cuts
// give: no decode error, every frame written, no loss, duplicate or gap
// in the sequence numbers, timestamps strictly increasing. It returns the
// frames decoded and their times.
func judgeCuts(t *testing.T, path, videoCodec string, sum mux.Summary) (int, []time.Duration) {
	t.Helper()
	if out, err := judge.DecodeErrors(path, videoCodec); err != nil || out != "" {
		t.Fatalf("ffmpeg decode: %v\n%s", err, out)
	}
	n, err := judge.FrameCount(path, "v", videoCodec)
	if err != nil {
		t.Fatal(err)
	}
	if sum.VideoFrames != n || sum.FramesDropped != 0 {
		t.Errorf("%d frames decoded, %d written, %d dropped; want all written", n, sum.VideoFrames, sum.FramesDropped)
	}
	if sum.PacketsLost != 0 || sum.PacketsDuplicate != 0 || len(sum.Gaps) != 0 {
		t.Errorf("%d packets lost, %d duplicates, gaps %+v; want none", sum.PacketsLost, sum.PacketsDuplicate, sum.Gaps)
	}
	times, err := judge.PacketTimes(path, "v")
	if err != nil {
		t.Fatal(err)
	}
	if len(times) != n {
		t.Fatalf("%d packet times for %d frames", len(times), n)
	}
	for i := 1; i < len(times); i++ {
		if times[i] <= times[i-1] {
			t.Fatalf("frame %d at %v, not after %v", i, times[i], times[i-1])
		}
	}
	return n, times
}
