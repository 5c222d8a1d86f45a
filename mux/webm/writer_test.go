package webm

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kiroku-sfu/kiroku/mux"
)

// writeFile writes video and audio frames to a new file and closes it.
func writeFile(t testing.TB, vt, at *mux.TrackInfo, video, audio []mux.Frame, opts Options) (string, mux.FileStats) {
	t.Helper()
	return writeFileWith(t, vt, at, opts, nil, nil, video, audio)
}

// writeFileWith is writeFile with hooks: created sees the new Writer,
// before sees every frame just before it is written.
func writeFileWith(t testing.TB, vt, at *mux.TrackInfo, opts Options, created func(*Writer),
	before func(mux.Kind, mux.Frame), video, audio []mux.Frame) (string, mux.FileStats) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "out.webm")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := NewWriter(f, vt, at, opts)
	if err != nil {
		t.Fatalf("NewWriter: %v", err)
	}
	if created != nil {
		created(w)
	}
	feedWith(t, w, video, audio, before)
	st, err := w.Close(0)
	if err != nil {
		t.Fatalf("Close: %v", err)
	}
	return path, st
}

// lastEnd returns the end of a track as the writer computes it when the
// file's end is unknown: the last frame (at its ms timecode) lasts as long
// as its predecessor.
func lastEnd(frames []mux.Frame) time.Duration {
	ms := func(i int) time.Duration { return frames[i].PTS.Round(time.Millisecond) }
	switch n := len(frames); n {
	case 0:
		return 0
	case 1:
		return ms(0)
	default:
		return 2*ms(n-1) - ms(n-2)
	}
}

func TestWriterCodecs(t *testing.T) {
	tests := []struct {
		name        string
		video       mux.Codec // "" = no video
		channels    int       // 0 = no audio
		videoOffset time.Duration
		audioOffset time.Duration
		probeName   string
		noVideo     bool // the video track is declared but gets no frame
	}{
		{name: "vp8+opus stereo", video: mux.VP8, channels: 2, probeName: "vp8"},
		{name: "vp9+opus mono", video: mux.VP9, channels: 1, probeName: "vp9"},
		{name: "av1", video: mux.AV1, probeName: "av1"},
		{name: "h264+opus stereo", video: mux.H264, channels: 2, probeName: "h264"},
		{name: "opus mono only", channels: 1},
		{name: "video starts late", video: mux.VP8, channels: 1, videoOffset: 1500 * time.Millisecond, probeName: "vp8"},
		{name: "audio starts late", video: mux.H264, channels: 2, audioOffset: 700 * time.Millisecond, probeName: "h264"},
		{name: "video never arrives", video: mux.VP8, channels: 2, noVideo: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var vt, at *mux.TrackInfo
			var video, audio []mux.Frame
			if tc.video != "" {
				vt = &mux.TrackInfo{Codec: tc.video, ClockRate: 90000}
				if !tc.noVideo {
					video = shift(clipFrames(t, tc.video, 320, 240, 2), tc.videoOffset)
				}
			}
			if tc.channels > 0 {
				at = &mux.TrackInfo{Codec: mux.Opus, ClockRate: 48000, Channels: tc.channels}
				audio = shift(clipFrames(t, mux.Opus, tc.channels, 0, 2.5), tc.audioOffset)
			}
			path, st := writeFile(t, vt, at, video, audio, Options{})
			if st.VideoFrames != len(video) || st.AudioFrames != len(audio) {
				t.Errorf("stats count %d video, %d audio frames; wrote %d, %d",
					st.VideoFrames, st.AudioFrames, len(video), len(audio))
			}
			want := max(lastEnd(video), lastEnd(audio))
			if st.Duration != want {
				t.Errorf("stats duration %v, want %v", st.Duration, want)
			}
			p := ffprobe(t, path)
			if d := p.duration(t) - want; d < -34*time.Millisecond || d > 34*time.Millisecond {
				t.Errorf("ffprobe duration %v, want %v within a frame", p.duration(t), want)
			}
			checkStreams(t, p, tc.probeName, tc.channels)
			counts := decodeCounts(t, path, tc.video == mux.VP9)
			if counts["video"] != len(video) || counts["audio"] != len(audio) {
				t.Errorf("decoded %v, wrote %d video and %d audio frames", counts, len(video), len(audio))
			}
			rep := mkvCheck(t, path)
			if rep.forced != 0 {
				t.Errorf("%d clusters do not start on a video keyframe", rep.forced)
			}
		})
	}
}

// checkStreams checks codecs, order (video first) and parameters.
func checkStreams(t *testing.T, p probed, video string, channels int) {
	t.Helper()
	var want []string
	if video != "" {
		want = append(want, video)
	}
	if channels > 0 {
		want = append(want, "opus")
	}
	if len(p.Streams) != len(want) {
		t.Fatalf("ffprobe sees %d streams, want %v", len(p.Streams), want)
	}
	for i, s := range p.Streams {
		if s.CodecName != want[i] {
			t.Errorf("stream %d is %s, want %s", i, s.CodecName, want[i])
		}
		switch s.CodecType {
		case "video":
			if s.Width != 320 || s.Height != 240 {
				t.Errorf("video is %dx%d, want 320x240", s.Width, s.Height)
			}
		case "audio":
			if s.Channels != channels {
				t.Errorf("audio has %d channels, want %d", s.Channels, channels)
			}
		}
	}
}

// TestCloseEnd checks that Close's end sets the Duration when it comes
// after the last frame.
func TestCloseEnd(t *testing.T) {
	path := filepath.Join(t.TempDir(), "end.webm")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := NewWriter(f, nil, &mux.TrackInfo{Codec: mux.Opus, Channels: 2}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	feedWith(t, w, nil, clipFrames(t, mux.Opus, 2, 0, 1), nil)
	st, err := w.Close(3 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if st.Duration != 3*time.Second {
		t.Errorf("stats duration %v, want 3s", st.Duration)
	}
	if d := ffprobe(t, path).duration(t); d != 3*time.Second {
		t.Errorf("ffprobe duration %v, want 3s", d)
	}
}

func TestNewWriterRejects(t *testing.T) {
	tests := []struct {
		name         string
		video, audio *mux.TrackInfo
		opts         Options
		unsupported  bool
	}{
		{name: "h265", video: &mux.TrackInfo{Codec: mux.H265}, unsupported: true},
		{name: "opus as video", video: &mux.TrackInfo{Codec: mux.Opus, Channels: 2}, unsupported: true},
		{name: "vp8 as audio", audio: &mux.TrackInfo{Codec: mux.VP8}, unsupported: true},
		{name: "opus 6 channels", audio: &mux.TrackInfo{Codec: mux.Opus, Channels: 6}, unsupported: true},
		{name: "no tracks"},
		{name: "flush interval too long", video: &mux.TrackInfo{Codec: mux.VP8}, opts: Options{FlushInterval: 3 * time.Second}},
		{name: "negative flush interval", video: &mux.TrackInfo{Codec: mux.VP8}, opts: Options{FlushInterval: -1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := os.Create(filepath.Join(t.TempDir(), "x.webm"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			_, err = NewWriter(f, tc.video, tc.audio, tc.opts)
			if err == nil {
				t.Fatal("NewWriter accepted it")
			}
			if errors.Is(err, mux.ErrUnsupported) != tc.unsupported {
				t.Errorf("error %q: wraps ErrUnsupported = %v, want %v", err, !tc.unsupported, tc.unsupported)
			}
		})
	}
}

func TestWriteFrameRejects(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "x.webm"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := NewWriter(f, &mux.TrackInfo{Codec: mux.H264}, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	good := &mux.VideoConfig{Width: 2, Height: 2, Record: []byte{1, 66, 0, 30, 0xFF, 0xE1, 0, 1, 0x67, 1, 0, 1, 0x68}}
	tests := []struct {
		name string
		kind mux.Kind
		f    mux.Frame
		want error
	}{
		{"no audio track", mux.Audio, mux.Frame{Keyframe: true}, nil},
		{"delta first", mux.Video, mux.Frame{Data: []byte{1}}, ErrNeedKeyframe},
		{"key without config", mux.Video, mux.Frame{Keyframe: true}, ErrNeedKeyframe},
		{"avcC with 2-byte lengths", mux.Video, mux.Frame{Keyframe: true, Config: &mux.VideoConfig{Record: []byte{1, 66, 0, 30, 0xFD, 0xE0, 0}}}, errBadAVCC},
		{"accepted", mux.Video, mux.Frame{PTS: time.Second, Keyframe: true, Config: good}, nil},
		{"PTS going back", mux.Video, mux.Frame{PTS: time.Millisecond}, nil},
	}
	for _, tc := range tests {
		err := w.WriteFrame(tc.kind, tc.f)
		switch {
		case tc.name == "accepted" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.name != "accepted" && err == nil:
			t.Errorf("%s: accepted", tc.name)
		case tc.want != nil && !errors.Is(err, tc.want):
			t.Errorf("%s: error %v, want %v", tc.name, err, tc.want)
		}
	}
	if st, err := w.Close(0); err != nil || st.VideoFrames != 1 {
		t.Fatalf("Close = %+v, %v; want the one accepted frame", st, err)
	}
	if err := w.WriteFrame(mux.Video, mux.Frame{}); !errors.Is(err, ErrClosed) {
		t.Errorf("WriteFrame after Close: %v, want ErrClosed", err)
	}
}
