package rtpmux

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kiroku-sfu/kiroku/mux"
)

// ntpAt returns an NTP 32.32 timestamp d after an arbitrary epoch.
func ntpAt(d time.Duration) uint64 {
	base := uint64(3_900_000_000) << 32
	return base + uint64(d/time.Second)<<32 + uint64(d%time.Second)<<32/uint64(time.Second)
}

func TestTimeline(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name string
		// events and sender reports to feed before them
		events     func() []event
		srs        func(m *Muxer)
		video      []int // frame numbers written
		audio      int   // audio frames written
		firstVideo time.Duration
		audioPTS   map[int]time.Duration // audio frame index -> PTS
		videoPTS   map[int]time.Duration // video frame index -> PTS
		gaps       []mux.Gap
	}{
		{
			name:   "audio and video start together",
			events: func() []event { return merged(videoEvents(0, 30, 30, 0, 1, 0), audioEvents(50, 0, 2, 0)) },
			video:  seqOf(0, 30), audio: 50, firstVideo: 0,
			audioPTS: map[int]time.Duration{0: 0, 49: 980 * ms},
		},
		{
			name: "audio before the first keyframe",
			events: func() []event {
				return merged(videoEvents(0, 30, 0, 0, 1, 0), videoEvents(30, 30, 30, 0, 1, 0), audioEvents(100, 0, 2, 0))
			},
			video: seqOf(30, 60), audio: 100, firstVideo: time.Second,
			audioPTS: map[int]time.Duration{0: 0, 99: 1980 * ms},
			gaps:     []mux.Gap{{Kind: mux.Video, Offset: 0, Duration: time.Second, Cause: mux.GapWaitKeyframe, DroppedFrames: 30}},
		},
		{
			name: "sender reports align the tracks",
			// Video arrives 300 ms after audio, but the sender captured its
			// first frame 100 ms after audio's first.
			events: func() []event { return merged(videoEvents(0, 30, 30, 300*ms, 1, 5000), audioEvents(50, 0, 2, 1000)) },
			srs: func(m *Muxer) {
				m.WriteSenderReport(mux.Audio, 2, ntpAt(0), 1000)
				m.WriteSenderReport(mux.Video, 1, ntpAt(100*ms), 5000)
			},
			video: seqOf(0, 30), audio: 50, firstVideo: 100 * ms,
		},
		{
			name: "a track aligned before the recording start is shifted, not piled up",
			// The sender captured video's first frame 700 ms before audio's,
			// but it arrives 600 ms after audio, when audio is being written.
			events: func() []event { return merged(videoEvents(0, 30, 30, 600*ms, 1, 5000), audioEvents(50, 0, 2, 1000)) },
			srs: func(m *Muxer) {
				m.WriteSenderReport(mux.Audio, 2, ntpAt(time.Second), 1000)
				m.WriteSenderReport(mux.Video, 1, ntpAt(300*ms), 5000)
			},
			video: seqOf(0, 30), audio: 50, firstVideo: 0,
			videoPTS: map[int]time.Duration{1: time.Second / 30, 29: 29 * time.Second / 30},
		},
		{
			name: "sender reports of another SSRC are ignored",
			events: func() []event {
				return merged(videoEvents(0, 30, 30, 300*ms, 1, 5000), audioEvents(50, 0, 2, 1000))
			},
			srs: func(m *Muxer) {
				m.WriteSenderReport(mux.Audio, 99, ntpAt(0), 1000)
				m.WriteSenderReport(mux.Video, 1, ntpAt(100*ms), 5000)
			},
			video: seqOf(0, 30), audio: 50, firstVideo: 300 * ms,
		},
		{
			name: "DTX silence keeps its length",
			events: func() []event {
				first := audioEvents(10, 0, 2, 0)
				rest := audioEvents(10, 1200*ms, 2, 10*960+48000) // 1 s of silence
				for i, ev := range rest {
					ev.pkt.SequenceNumber = uint16(7010 + i)
				}
				return append(first, rest...)
			},
			audio:    20,
			audioPTS: map[int]time.Duration{9: 180 * ms, 10: 1200 * ms},
		},
		{
			name: "audio SSRC change continues the timeline",
			events: func() []event {
				return append(audioEvents(10, 0, 2, 0), audioEvents(10, 700*ms, 3, 123456)...)
			},
			audio:    20,
			audioPTS: map[int]time.Duration{9: 180 * ms, 10: 700 * ms},
			gaps:     []mux.Gap{{Kind: mux.Audio, Offset: 200 * ms, Duration: 500 * ms, Cause: mux.GapSSRCChange}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, vp8, opus, nil)
			if tc.srs != nil {
				tc.srs(h.m)
			}
			h.feed(t, tc.events())
			sum := h.close(t)
			w := h.writers[0]
			vs, as := w.of(mux.Video), w.of(mux.Audio)
			if !slices.Equal(ids(vs), tc.video) || len(as) != tc.audio {
				t.Fatalf("video %v, %d audio; want %v, %d", ids(vs), len(as), tc.video, tc.audio)
			}
			if len(vs) > 0 && vs[0].pts != tc.firstVideo {
				t.Errorf("first video PTS %v, want %v", vs[0].pts, tc.firstVideo)
			}
			for i, want := range tc.audioPTS {
				if as[i].pts != want {
					t.Errorf("audio %d PTS %v, want %v", i, as[i].pts, want)
				}
			}
			for i, want := range tc.videoPTS {
				if vs[i].pts != want {
					t.Errorf("video %d PTS %v, want %v", i, vs[i].pts, want)
				}
			}
			if !slices.Equal(sum.Gaps, tc.gaps) {
				t.Errorf("gaps %+v, want %+v", sum.Gaps, tc.gaps)
			}
			checkOrder(t, w)
		})
	}
}

func TestInterleavesInTimeOrder(t *testing.T) {
	h := newHarness(t, vp8, opus, nil)
	evs := merged(videoEvents(0, 90, 30, 0, 1, 0), audioEvents(150, 5*time.Millisecond, 2, 0))
	h.feed(t, evs)
	sum := h.close(t)
	w := h.writers[0]
	for i := 1; i < len(w.frames); i++ {
		if w.frames[i].pts < w.frames[i-1].pts {
			t.Fatalf("frame %d at %v after %v", i, w.frames[i].pts, w.frames[i-1].pts)
		}
	}
	if sum.VideoFrames != 90 || sum.AudioFrames != 150 || sum.PacketsReceived != 330 || len(sum.Gaps) != 0 {
		t.Errorf("summary %+v", sum)
	}
	if v, a := h.m.Stats(mux.Video), h.m.Stats(mux.Audio); v.FramesEmitted != 90 || v.PacketsReceived != 180 ||
		a.FramesEmitted != 150 || v.PTSClamped+a.PTSClamped+v.MuxDropped+a.MuxDropped != 0 {
		t.Errorf("stats video %+v audio %+v", v, a)
	}
}

func TestLossGapInSummary(t *testing.T) {
	h := newHarness(t, vp8, nil, nil)
	evs := videoEvents(0, 90, 30, 0, 1, 0)
	evs = slices.Delete(evs, 21, 22) // frame 10, second packet
	h.feed(t, evs)
	sum := h.close(t)
	want := []mux.Gap{{Kind: mux.Video, Offset: 10 * time.Second / 30, Duration: time.Second - 10*time.Second/30,
		Cause: mux.GapLoss, DroppedFrames: 20}}
	if !slices.Equal(sum.Gaps, want) || sum.PacketsLost != 1 || sum.FramesDropped != 20 ||
		sum.KeyframeRequests != 1 || h.requests != 1 || sum.VideoFrames != 70 {
		t.Errorf("summary %+v, requests %d; want gaps %+v", sum, h.requests, want)
	}
}

func TestNoteDroppedIsBackpressure(t *testing.T) {
	h := newHarness(t, nil, opus, nil)
	evs := audioEvents(50, 0, 2, 0)
	h.feed(t, evs[:10])
	h.m.NoteDropped(mux.Audio)
	h.feed(t, evs[15:])
	sum := h.close(t)
	want := []mux.Gap{{Kind: mux.Audio, Offset: 200 * time.Millisecond, Duration: 100 * time.Millisecond,
		Cause: mux.GapBackpressure, DroppedFrames: 5}}
	if !slices.Equal(sum.Gaps, want) || sum.AudioFrames != 45 {
		t.Errorf("summary %+v, want gaps %+v", sum, want)
	}
}

func TestNoMedia(t *testing.T) {
	h := newHarness(t, vp8, opus, nil)
	h.feed(t, videoEvents(0, 10, 0, 0, 1, 0)) // never a keyframe
	sum, err := h.m.Close()
	if !errors.Is(err, ErrNoMedia) || len(h.writers) != 0 || sum.FramesDropped != 10 {
		t.Errorf("Close: %v, %d writers, summary %+v", err, len(h.writers), sum)
	}
	if _, err := h.m.Close(); err == nil {
		t.Error("second Close succeeded")
	}
	if err := h.m.WritePacket(mux.Audio, audioEvents(1, 0, 1, 0)[0].pkt, 0); err == nil {
		t.Error("WritePacket after Close succeeded")
	}
}

func TestReorderingIsFatalForTheTrack(t *testing.T) {
	h := newHarness(t, vp8, opus, nil)
	evs := videoEvents(0, 20, 30, 0, 1, 0)
	evs[4].pkt.Payload[0] |= flagReordered
	h.feed(t, audioEvents(5, 0, 2, 0))
	var err error
	for _, ev := range evs {
		if err = h.m.WritePacket(ev.kind, ev.pkt, ev.arrival); err != nil {
			break
		}
	}
	if !errors.Is(err, mux.ErrReordering) {
		t.Fatalf("WritePacket: %v, want ErrReordering", err)
	}
	if err := h.m.WritePacket(mux.Audio, audioEvents(6, 0, 2, 0)[5].pkt, 100*time.Millisecond); err != nil {
		t.Errorf("audio after video failed: %v", err)
	}
	if _, err := h.m.Close(); !errors.Is(err, mux.ErrReordering) || len(h.writers[0].of(mux.Audio)) != 6 {
		t.Errorf("Close: %v, audio %d", err, len(h.writers[0].of(mux.Audio)))
	}
}

func TestConcurrentTracks(t *testing.T) {
	h := newHarness(t, vp8, opus, nil)
	var wg sync.WaitGroup
	for _, evs := range [][]event{videoEvents(0, 60, 30, 0, 1, 0), audioEvents(100, 0, 2, 0)} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, ev := range evs {
				if err := h.m.WritePacket(ev.kind, ev.pkt, ev.arrival); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if sum := h.close(t); sum.VideoFrames != 60 || sum.AudioFrames != 100 {
		t.Errorf("summary %+v", sum)
	}
}

func TestConfigValidate(t *testing.T) {
	newW := func(v, a *mux.TrackInfo) (mux.Writer, error) { return nil, nil }
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"video only", Config{Video: vp8, VideoDepacketizer: fakeDepacketizer{}, NewWriter: newW}, true},
		{"no track", Config{NewWriter: newW}, false},
		{"audio as video", Config{Video: opus, VideoDepacketizer: fakeDepacketizer{}, NewWriter: newW}, false},
		{"no depacketizer", Config{Audio: opus, NewWriter: newW}, false},
		{"no writer", Config{Audio: opus, AudioDepacketizer: fakeDepacketizer{}}, false},
		{"bad clock", Config{Audio: &mux.TrackInfo{Codec: mux.Opus}, AudioDepacketizer: fakeDepacketizer{}, NewWriter: newW}, false},
	}
	for _, tc := range tests {
		if _, err := New(tc.cfg); (err == nil) != tc.ok {
			t.Errorf("%s: New: %v", tc.name, err)
		}
	}
}

// failingWriter fails its nth WriteFrame or its Close.
type failingWriter struct {
	fakeWriter
	failWrite int
	failClose bool
}

func (w *failingWriter) WriteFrame(k mux.Kind, f mux.Frame) error {
	if w.failWrite--; w.failWrite == 0 {
		return errors.New("disk full")
	}
	return w.fakeWriter.WriteFrame(k, f)
}

func (w *failingWriter) Close(end time.Duration) (mux.FileStats, error) {
	st, err := w.fakeWriter.Close(end)
	if w.failClose {
		return st, errors.New("disk gone")
	}
	return st, err
}

func TestWriterErrors(t *testing.T) {
	tests := []struct {
		name      string
		failWrite int
		failClose bool
		split     bool
		wantWrite bool // WritePacket must fail
	}{
		{name: "write fails", failWrite: 20, wantWrite: true},
		{name: "close fails", failClose: true},
		{name: "close at a split fails", failClose: true, split: true, wantWrite: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var writers []*failingWriter
			h := newHarness(t, vp8, opus, func(c *Config) {
				c.NewWriter = func(v, a *mux.TrackInfo) (mux.Writer, error) {
					w := &failingWriter{fakeWriter: fakeWriter{last: map[mux.Kind]time.Duration{}},
						failWrite: tc.failWrite, failClose: tc.failClose}
					writers = append(writers, w)
					return w, nil
				}
			})
			if tc.split {
				h.m.SplitAt(time.Second)
			}
			var writeErr error
			for _, ev := range merged(videoEvents(0, 90, 30, 0, 1, 0), audioEvents(150, 0, 2, 0)) {
				if writeErr = h.m.WritePacket(ev.kind, ev.pkt, ev.arrival); writeErr != nil {
					break
				}
			}
			if (writeErr != nil) != tc.wantWrite {
				t.Fatalf("WritePacket: %v", writeErr)
			}
			if _, err := h.m.Close(); err == nil {
				t.Error("Close succeeded")
			}
			for i, w := range writers {
				if !w.closed {
					t.Errorf("writer %d not closed", i)
				}
			}
		})
	}
}
