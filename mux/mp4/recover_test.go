package mp4

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kiroku-sfu/kiroku/mux"
)

// checkpoint is the state after a Flush: file size and frames on disk.
type checkpoint struct {
	size         int64
	video, audio int
}

// recordUnfinished writes frames to a file without closing it, flushing
// every flushEvery frames, as a process that then dies would.
func recordUnfinished(t testing.TB, f *os.File, c clip, frames []taggedFrame, flushEvery int) []checkpoint {
	t.Helper()
	w, err := NewWriter(f, &c.video, &c.audio, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var cps []checkpoint
	var cp checkpoint
	for i, tf := range frames {
		if err := w.WriteFrame(tf.kind, tf.frame); err != nil {
			t.Fatal(err)
		}
		if tf.kind == mux.Video {
			cp.video++
		} else {
			cp.audio++
		}
		if (i+1)%flushEvery == 0 {
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			cp.size = fileSize(t, f)
			cps = append(cps, cp)
		}
	}
	return cps
}

// copyPrefix copies the first n bytes of src to a new file.
func copyPrefix(t testing.TB, src string, n int64) *os.File {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "cut.mp4")
	if err := os.WriteFile(dst, data[:n], 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(dst, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// TestRecoverCutFile cuts an unfinished recording at several points,
// including inside a fragment, and checks that Recover keeps exactly the
// fragments written in full.
func TestRecoverCutFile(t *testing.T) {
	cc := codecCases()[0]
	c := readClip(t, makeClip(t, cc, "320x240", 3), cc.codec)
	src := createFile(t, "unfinished.mp4")
	cps := recordUnfinished(t, src, c, interleave(c.videoFrames, c.audioFrames), 40)
	if len(cps) < 4 {
		t.Fatalf("only %d checkpoints", len(cps))
	}
	tests := []struct {
		name string
		cut  int64
		want checkpoint
	}{
		{"at a fragment boundary", cps[2].size, cps[2]},
		{"one byte into a fragment", cps[2].size + 1, cps[2]},
		{"inside the moof", cps[2].size + 100, cps[2]},
		{"one byte short of the end", cps[3].size - 1, cps[2]},
		{"whole file", cps[len(cps)-1].size, cps[len(cps)-1]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := copyPrefix(t, src.Name(), tt.cut)
			stats, err := Recover(f)
			if err != nil {
				t.Fatalf("Recover: %v", err)
			}
			if stats.VideoFrames != tt.want.video || stats.AudioFrames != tt.want.audio || stats.Bytes != fileSize(t, f) {
				t.Errorf("stats = %+v, want %d video and %d audio frames in %d bytes", stats, tt.want.video, tt.want.audio, fileSize(t, f))
			}
			checkProgressive(t, readLayout(t, f.Name()), true, 2)
			decodeClean(t, f.Name(), nil)
			checkFrames(t, f.Name(), nil, tt.want.video, tt.want.audio)
		})
	}
}

// TestRecoverInterruptedFinish covers a finish that died after appending its
// moov, and Recover on a file that is already finished.
func TestRecoverInterruptedFinish(t *testing.T) {
	cc := codecCases()[0]
	c := readClip(t, makeClip(t, cc, "320x240", 2), cc.codec)
	src := createFile(t, "unfinished.mp4")
	cps := recordUnfinished(t, src, c, interleave(c.videoFrames, c.audioFrames), 30)
	last := cps[len(cps)-1]
	f := copyPrefix(t, src.Name(), last.size)
	// A moov appended by a finish that then died; it must be replaced.
	stale := []byte{0, 0, 0, 16, 'm', 'o', 'o', 'v', 0, 0, 0, 8, 'f', 'r', 'e', 'e'}
	if _, err := f.WriteAt(stale, last.size); err != nil {
		t.Fatal(err)
	}
	stats, err := Recover(f)
	if err != nil || stats.VideoFrames != last.video || stats.AudioFrames != last.audio {
		t.Fatalf("Recover = %+v, %v; want %d video and %d audio frames", stats, err, last.video, last.audio)
	}
	before, _ := os.ReadFile(f.Name())
	again, err := Recover(f)
	after, _ := os.ReadFile(f.Name())
	if err != nil || again != stats || !bytes.Equal(before, after) {
		t.Errorf("Recover of a finished file = %+v, %v; changed the file: %v", again, err, !bytes.Equal(before, after))
	}
	decodeClean(t, f.Name(), nil)
	checkFrames(t, f.Name(), nil, last.video, last.audio)
}

// synthFrames makes n video and 2n audio frames of random bytes, enough for
// the box structure (not for a decoder).
func synthFrames(rng *rand.Rand, n int) []taggedFrame {
	cfg := &mux.VideoConfig{Width: 320, Height: 240, BitDepth: 8}
	var video, audio []mux.Frame
	for i := range n {
		data := make([]byte, 50+rng.IntN(200))
		for j := range data {
			data[j] = byte(rng.Uint32())
		}
		f := mux.Frame{PTS: time.Duration(i) * 40 * time.Millisecond, Keyframe: i%25 == 0, Data: data}
		if f.Keyframe {
			f.Config = cfg
		}
		video = append(video, f)
		for k := range 2 {
			// A 20 ms CELT packet: TOC config 31, stereo, one frame.
			pkt := append([]byte{0xfc}, data[:39]...)
			audio = append(audio, mux.Frame{PTS: f.PTS + time.Duration(k)*20*time.Millisecond, Keyframe: true, Data: pkt})
		}
	}
	return interleave(video, audio)
}

var (
	synthVideo = mux.TrackInfo{Codec: mux.VP8, ClockRate: 90000}
	synthAudio = mux.TrackInfo{Codec: mux.Opus, ClockRate: 48000, Channels: 2}
)

// unfinishedBytes returns the bytes of a recording that was never closed.
func unfinishedBytes(t testing.TB, frames []taggedFrame) []byte {
	m := &memFile{}
	w, err := NewWriter(m, &synthVideo, &synthAudio, Options{ReservedHeaderBytes: minReservedHeaderBytes})
	if err != nil {
		t.Fatal(err)
	}
	for i, tf := range frames {
		if err := w.WriteFrame(tf.kind, tf.frame); err != nil {
			t.Fatal(err)
		}
		if i%17 == 16 {
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	return m.b
}

// FuzzRecover feeds Recover damaged recordings: it must return a clear error
// or a finished file, never panic, and a finished file must be stable.
func FuzzRecover(f *testing.F) {
	good := unfinishedBytes(f, synthFrames(rand.New(rand.NewPCG(1, 2)), 40))
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add(good[:minReservedHeaderBytes+40])
	f.Add(good[:100])
	for _, frames := range []int{10, 300} { // moov in the reserved region, then at the end
		finished := &memFile{b: unfinishedBytes(f, synthFrames(rand.New(rand.NewPCG(3, 4)), frames))}
		if _, err := Recover(finished); err != nil {
			f.Fatal(err)
		}
		f.Add(finished.b)
	}
	for _, off := range []int{0, 36, 44, minReservedHeaderBytes + 32, minReservedHeaderBytes + 60, minReservedHeaderBytes + 100} {
		bad := bytes.Clone(good)
		copy(bad[off:], []byte{0xff, 0xff, 0xff, 0xf0})
		f.Add(bad)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m := &memFile{b: bytes.Clone(data)}
		stats, err := Recover(m)
		if err != nil {
			if stats != (mux.FileStats{}) {
				t.Fatalf("failed Recover reported stats %+v: %v", stats, err)
			}
			return
		}
		if stats.Bytes != int64(len(m.b)) {
			t.Fatalf("stats.Bytes = %d, file has %d", stats.Bytes, len(m.b))
		}
		finished := bytes.Clone(m.b)
		if _, err := Recover(m); err != nil || !bytes.Equal(finished, m.b) {
			t.Fatalf("Recover of the finished file: %v, changed: %v", err, !bytes.Equal(finished, m.b))
		}
	})
}

// TestUnfinishedFilePlays decodes a recording that was never finished, as
// a fragmented MP4, with ffmpeg: an independent check of the fragments.
func TestUnfinishedFilePlays(t *testing.T) {
	cc := codecCases()[0]
	c := readClip(t, makeClip(t, cc, "320x240", 2), cc.codec)
	src := createFile(t, "unfinished.mp4")
	cps := recordUnfinished(t, src, c, interleave(c.videoFrames, c.audioFrames), 25)
	last := cps[len(cps)-1]
	f := copyPrefix(t, src.Name(), last.size)
	decodeClean(t, f.Name(), nil)
	checkFrames(t, f.Name(), nil, last.video, last.audio)
}

// fullDisk is a memFile that runs out of space at limit bytes: a write
// crossing it stores what fits and fails, as ENOSPC does.
type fullDisk struct {
	memFile
	limit int64
}

func (d *fullDisk) WriteAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) <= d.limit {
		return d.memFile.WriteAt(p, off)
	}
	n, _ := d.memFile.WriteAt(p[:max(0, d.limit-off)], off)
	return n, errors.New("no space left on device")
}

// TestRecoverAfterDiskFull fills the disk mid-fragment: the writer fails,
// and Recover keeps every fragment written before.
func TestRecoverAfterDiskFull(t *testing.T) {
	frames := synthFrames(rand.New(rand.NewPCG(7, 8)), 100)
	for _, limit := range []int64{DefaultReservedHeaderBytes + 3000, DefaultReservedHeaderBytes + 9000} {
		d := &fullDisk{limit: limit}
		w, err := NewWriter(d, &synthVideo, &synthAudio, Options{})
		if err != nil {
			t.Fatal(err)
		}
		var flushed checkpoint
		var cur checkpoint
		var writeErr error
		for i, tf := range frames {
			if writeErr = w.WriteFrame(tf.kind, tf.frame); writeErr != nil {
				break
			}
			if tf.kind == mux.Video {
				cur.video++
			} else {
				cur.audio++
			}
			if i%10 == 9 {
				if writeErr = w.Flush(); writeErr != nil {
					break
				}
				flushed = cur
			}
		}
		if writeErr == nil {
			t.Fatalf("limit %d: the writer never hit the full disk", limit)
		}
		if _, err := w.Close(0); !errors.Is(err, ErrClosed) {
			t.Errorf("Close after a failed write: %v, want ErrClosed", err)
		}
		m := &memFile{b: d.b}
		stats, err := Recover(m)
		if err != nil || stats.VideoFrames < flushed.video || stats.AudioFrames < flushed.audio ||
			stats.VideoFrames > cur.video || stats.AudioFrames > cur.audio || flushed.video == 0 {
			t.Errorf("limit %d: Recover = %+v, %v; want at least the %d video and %d audio frames flushed",
				limit, stats, err, flushed.video, flushed.audio)
		}
	}
}

// TestRecoverDamagedFragment damages one fragment's moof in the middle of a
// recording: Recover drops that fragment, keeps the ones after it, and
// restarts video at the next keyframe so the file decodes cleanly.
func TestRecoverDamagedFragment(t *testing.T) {
	cc := codecCases()[0]
	c := readClip(t, makeClip(t, cc, "320x240", 3), cc.codec)
	src := createFile(t, "unfinished.mp4")
	cps := recordUnfinished(t, src, c, interleave(c.videoFrames, c.audioFrames), 40)
	last := cps[len(cps)-1]
	f := copyPrefix(t, src.Name(), last.size)
	// The fragment after checkpoint 1: its first tfhd's track_ID (moof 8,
	// mfhd 16, traf 8, tfhd 8 + 4 bytes in) now names no track.
	if _, err := f.WriteAt([]byte{0, 0, 0, 99}, cps[1].size+44); err != nil {
		t.Fatal(err)
	}
	stats, err := Recover(f)
	if err != nil {
		t.Fatalf("Recover: %v", err)
	}
	// Video resumes at the first keyframe after the damaged fragment.
	resume := cps[2].video
	for resume < last.video && !c.videoFrames[resume].Keyframe {
		resume++
	}
	wantVideo := cps[1].video + last.video - resume
	wantAudio := last.audio - (cps[2].audio - cps[1].audio)
	if stats.AudioFrames != wantAudio || stats.VideoFrames != wantVideo || resume == cps[2].video {
		t.Errorf("recovered %+v; want %d audio and %d video frames (video resumes at frame %d)",
			stats, wantAudio, wantVideo, resume)
	}
	checkProgressive(t, readLayout(t, f.Name()), true, 2)
	decodeClean(t, f.Name(), nil)
	checkFrames(t, f.Name(), nil, stats.VideoFrames, stats.AudioFrames)
}
