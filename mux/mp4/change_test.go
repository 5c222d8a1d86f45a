package mp4

import (
	"bytes"
	"math"
	"os"
	"testing"
	"time"

	"github.com/kiroku-sfu/kiroku/mux"
)

// concat plays clips one after the other: each clip's frames start where the
// previous clip ended.
func concat(clips ...clip) (video, audio []mux.Frame, end time.Duration) {
	for _, c := range clips {
		video = append(video, shifted(c.videoFrames, end)...)
		audio = append(audio, shifted(c.audioFrames, end)...)
		end = clipEnd(video, audio)
	}
	return video, audio, end
}

func TestWriterResolutionChange(t *testing.T) {
	for _, cc := range []codecCase{codecCases()[0], codecCases()[2]} { // H.264, VP8
		t.Run(string(cc.codec), func(t *testing.T) {
			small := readClip(t, makeClip(t, cc, "320x240", 2), cc.codec)
			large := readClip(t, makeClip(t, cc, "640x480", 2), cc.codec)
			// Back to the first size: the first sample entry is used again.
			video, audio, end := concat(small, large, small)
			f := createFile(t, "change.mp4")
			stats := writeFrames(t, f, &small.video, &small.audio, interleave(video, audio), end, Options{})
			if stats.Width != 640 || stats.Height != 480 || stats.ConfigChanges != 1 || stats.VideoFrames != len(video) {
				t.Errorf("stats = %+v, want 640x480, 1 config change, %d frames", stats, len(video))
			}
			l := readLayout(t, f.Name())
			checkProgressive(t, l, true, 2)
			if l.tkhdWidth != 640 || l.tkhdHeight != 480 {
				t.Errorf("tkhd %dx%d, want the largest size 640x480", l.tkhdWidth, l.tkhdHeight)
			}
			decodeClean(t, f.Name(), cc.decoder)
			checkFrames(t, f.Name(), cc.decoder, len(video), len(audio))
		})
	}
}

func TestWriterStartOffset(t *testing.T) {
	cc := codecCases()[0]
	c := readClip(t, makeClip(t, cc, "320x240", 2), cc.codec)
	const offset = 300 * time.Millisecond
	video := shifted(c.videoFrames, offset) // audio starts 300 ms before video
	f := createFile(t, "offset.mp4")
	writeFrames(t, f, &c.video, &c.audio, interleave(video, c.audioFrames), clipEnd(video, c.audioFrames), Options{})
	streams := probeFile(t, f.Name())
	v, a := streamOf(t, streams, "video"), streamOf(t, streams, "audio")
	got := v.seconds(t, v.StartTime) - a.seconds(t, a.StartTime)
	if math.Abs(got-offset.Seconds()) > 0.001 {
		t.Errorf("video starts %.4f s after audio, want %.3f s", got, offset.Seconds())
	}
	decodeClean(t, f.Name(), nil)
}

// TestWriterMoovPlacement covers a moov too large for the reserved region
// (appended at the end) and forced 64-bit chunk offsets.
func TestWriterMoovPlacement(t *testing.T) {
	cc := codecCases()[0]
	c := readClip(t, makeClip(t, cc, "320x240", 3), cc.codec)
	// 18 s of media: a moov larger than the smallest reserved region.
	video, audio, end := concat(c, c, c, c, c, c)
	tests := []struct {
		name      string
		opts      Options
		moovFirst bool
		co64      bool
	}{
		{"reserved region too small", Options{ReservedHeaderBytes: minReservedHeaderBytes}, false, false},
		{"co64", Options{forceCo64: true}, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := createFile(t, "placement.mp4")
			stats := writeFrames(t, f, &c.video, &c.audio, interleave(video, audio), end, tt.opts)
			if stats.Bytes != fileSize(t, f) {
				t.Errorf("stats.Bytes = %d, file has %d", stats.Bytes, fileSize(t, f))
			}
			l := readLayout(t, f.Name())
			checkProgressive(t, l, tt.moovFirst, 2)
			if (l.co64 == 2) != tt.co64 {
				t.Errorf("%d co64 and %d stco boxes, want co64: %v", l.co64, l.stco, tt.co64)
			}
			decodeClean(t, f.Name(), nil)
			checkFrames(t, f.Name(), nil, len(video), len(audio))
			checkRecoverFinished(t, f, l, stats)
		})
	}
}

// checkRecoverFinished checks that Recover leaves a finished file alone and
// completes a finish that died before freeing every moof.
func checkRecoverFinished(t *testing.T, f *os.File, l layout, want mux.FileStats) {
	t.Helper()
	finished, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	// Turn back into a moof each free box that precedes an mdat: those were
	// the fragments' moof boxes.
	restored := 0
	for i := 1; i+1 < len(l.top); i++ {
		if l.top[i] == "free" && l.top[i+1] == "mdat" {
			if _, err := f.WriteAt([]byte("moof"), l.topOff[i]+4); err != nil {
				t.Fatal(err)
			}
			restored++
		}
	}
	if restored == 0 {
		t.Fatalf("no former moof found in %v", l.top)
	}
	for _, step := range []string{"with moof boxes left", "already finished"} {
		stats, err := Recover(f)
		got, _ := os.ReadFile(f.Name())
		if err != nil || stats != want || !bytes.Equal(got, finished) {
			t.Errorf("Recover %s: %+v, %v, want %+v; file restored: %v", step, stats, err, want, bytes.Equal(got, finished))
		}
	}
}

// TestWriterSingleTrack records a file with only video or only audio.
func TestWriterSingleTrack(t *testing.T) {
	cc := codecCases()[0]
	c := readClip(t, makeClip(t, cc, "320x240", 2), cc.codec)
	tests := []struct {
		name         string
		video, audio *mux.TrackInfo
		frames       []taggedFrame
		wantV, wantA int
	}{
		{"video only", &c.video, nil, interleave(c.videoFrames, nil), len(c.videoFrames), 0},
		{"audio only", nil, &c.audio, interleave(nil, c.audioFrames), 0, len(c.audioFrames)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := createFile(t, "single.mp4")
			stats := writeFrames(t, f, tt.video, tt.audio, tt.frames, 0, Options{})
			if stats.VideoFrames != tt.wantV || stats.AudioFrames != tt.wantA {
				t.Errorf("stats = %+v", stats)
			}
			l := readLayout(t, f.Name())
			if l.top[1] != "moov" || l.moof != 0 || l.stco != 1 {
				t.Errorf("layout %+v: want one progressive track", l)
			}
			decodeClean(t, f.Name(), nil)
			got := decodedFrames(t, f.Name(), nil)
			if got["0"] != tt.wantV+tt.wantA || len(got) != 1 {
				t.Errorf("decoded %v, want %d frames in stream 0", got, tt.wantV+tt.wantA)
			}
		})
	}
}
