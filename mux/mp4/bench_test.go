package mp4

import (
	"errors"
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
	n := cap(w.frag.box.buf.b) + cap(w.frag.scratch)
	for _, t := range w.tracks {
		n += cap(t.p.buf) + cap(t.p.samples)*24 + len(t.meta.stsd)
	}
	return n
}
