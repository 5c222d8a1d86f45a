package mp4

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kiroku-sfu/kiroku/mux"
)

// discardFile accepts writes anywhere and keeps nothing, so a benchmark
// measures the writer, not the disk or an ever-growing buffer.
type discardFile struct{ pos int64 }

func (d *discardFile) Write(p []byte) (int, error)             { d.pos += int64(len(p)); return len(p), nil }
func (d *discardFile) WriteAt(p []byte, _ int64) (int, error)  { return len(p), nil }
func (d *discardFile) Seek(off int64, _ int) (int64, error)    { d.pos = off; return off, nil }
func (d *discardFile) ReadAt(p []byte, off int64) (int, error) { return 0, errors.New("discarded") }

// steadyFrames returns one second of 30 fps video (1500-byte frames, a
// keyframe each second) and 20 ms Opus packets, interleaved.
func steadyFrames() []taggedFrame {
	cfg := &mux.VideoConfig{Width: 640, Height: 480, BitDepth: 8}
	video := make([]mux.Frame, 30)
	for i := range video {
		video[i] = mux.Frame{PTS: time.Duration(i) * time.Second / 30, Data: make([]byte, 1500)}
	}
	video[0].Keyframe, video[0].Config = true, cfg
	audio := make([]mux.Frame, 50)
	for i := range audio {
		audio[i] = mux.Frame{PTS: time.Duration(i) * 20 * time.Millisecond, Keyframe: true, Data: make([]byte, 120)}
	}
	return interleave(video, audio)
}

// BenchmarkWriteFrame measures WriteFrame in steady state, against a floor
// that only copies the frames into a reused buffer. heldB is the memory the
// writer keeps in its buffers.
func BenchmarkWriteFrame(b *testing.B) {
	second := steadyFrames()
	b.Run("mp4", func(b *testing.B) {
		w, err := NewWriter(&discardFile{}, &synthVideo, &synthAudio, Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.SetBytes(int64(len(second[0].frame.Data)))
		b.ResetTimer()
		for i := range b.N {
			tf := second[i%len(second)]
			tf.frame.PTS += time.Duration(i/len(second)) * time.Second
			if err := w.WriteFrame(tf.kind, tf.frame); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		b.ReportMetric(float64(w.heldBytes()), "heldB")
	})
	b.Run("floor-copy", func(b *testing.B) {
		var buf []byte
		b.ReportAllocs()
		b.SetBytes(int64(len(second[0].frame.Data)))
		for i := range b.N {
			if len(buf) > 1<<20 {
				buf = buf[:0]
			}
			buf = append(buf, second[i%len(second)].frame.Data...)
		}
	})
}

// heldBytes is the capacity of every buffer the writer keeps between frames.
func (w *Writer) heldBytes() int {
	n := cap(w.frag.box.b) + cap(w.frag.scratch)
	for _, t := range w.tracks {
		n += cap(t.p.buf) + cap(t.p.samples)*24 + len(t.meta.stsd)
	}
	return n
}

// BenchmarkRecover finishes a 10-minute recording (small frames, so the
// file stays in memory) against a floor that only reads every byte once.
func BenchmarkRecover(b *testing.B) {
	second := steadyFrames()
	for i := range second {
		second[i].frame.Data = second[i].frame.Data[:100]
	}
	src := &memFile{}
	w, err := NewWriter(src, &synthVideo, &synthAudio, Options{})
	if err != nil {
		b.Fatal(err)
	}
	const seconds = 600
	for s := range seconds {
		for _, tf := range second {
			tf.frame.PTS += time.Duration(s) * time.Second
			if err := w.WriteFrame(tf.kind, tf.frame); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	b.Run("recover", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(src.b)))
		for range b.N {
			m := &memFile{b: append([]byte(nil), src.b...)}
			if _, err := Recover(m); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("floor-read", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(src.b)))
		for range b.N {
			m := &memFile{b: append([]byte(nil), src.b...)}
			var sum byte
			for _, c := range m.b {
				sum += c
			}
			_ = sum
		}
	})
}

// BenchmarkWholeFile measures a whole recording's life: create a file, open
// a Writer, write 10 s of frames and Close, against a floor that creates a
// file and writes the finished file's bytes with one os.File.Write. The
// difference is the writer's per-file and per-frame cost.
func BenchmarkWholeFile(b *testing.B) {
	second := steadyFrames()
	var frames []taggedFrame
	for s := range 10 {
		for _, tf := range second {
			tf.frame.PTS += time.Duration(s) * time.Second
			frames = append(frames, tf)
		}
	}
	dir := b.TempDir()
	path := filepath.Join(dir, "whole.mp4")
	record := func(b *testing.B) {
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		w, err := NewWriter(f, &synthVideo, &synthAudio, Options{})
		if err != nil {
			b.Fatal(err)
		}
		for _, tf := range frames {
			if err := w.WriteFrame(tf.kind, tf.frame); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := w.Close(10 * time.Second); err != nil {
			b.Fatal(err)
		}
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("mp4", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			record(b)
		}
	})
	record(b)
	finished, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("floor-write", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(finished)))
		for range b.N {
			f, err := os.Create(path)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := f.Write(finished); err != nil {
				b.Fatal(err)
			}
			if err := f.Close(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
