package webm

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kiroku-sfu/kiroku/mux"
)

// BenchmarkWriteFrame measures WriteFrame in steady state (video at 30 fps
// with a keyframe every 2 s, Opus every 20 ms, 1 s flushes to a real
// file). The "write-only" baseline writes the same payload bytes to a file
// in the same chunks, so the ratio between the two is what the muxing
// costs on this machine.
func BenchmarkWriteFrame(b *testing.B) {
	video := make([]byte, 1200)
	audio := make([]byte, 120)
	next := func(i int) (mux.Kind, mux.Frame) {
		// Five audio frames per three video frames: 20 ms vs 33.3 ms.
		n, r := i/8, i%8
		if r < 3 {
			pts := time.Duration(n*3+r) * time.Second / 30
			key := (n*3+r)%60 == 0
			f := mux.Frame{PTS: pts, Keyframe: key, Data: video}
			if key {
				f.Config = &mux.VideoConfig{Width: 640, Height: 480}
			}
			return mux.Video, f
		}
		return mux.Audio, mux.Frame{PTS: time.Duration(n*5+r-3) * 20 * time.Millisecond, Keyframe: true, Data: audio}
	}
	b.Run("webm", func(b *testing.B) {
		f := benchFile(b)
		w, err := NewWriter(f, &mux.TrackInfo{Codec: mux.VP8}, &mux.TrackInfo{Codec: mux.Opus, Channels: 2}, Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			k, fr := next(i)
			if err := w.WriteFrame(k, fr); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := w.Close(0); err != nil {
			b.Fatal(err)
		}
	})
	b.Run("write-only", func(b *testing.B) {
		f := benchFile(b)
		var buf []byte
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			_, fr := next(i)
			buf = append(buf, fr.Data...)
			if i%50 == 49 { // about one second of media
				if _, err := f.Write(buf); err != nil {
					b.Fatal(err)
				}
				buf = buf[:0]
			}
		}
	})
}

func benchFile(b *testing.B) *os.File {
	f, err := os.Create(filepath.Join(b.TempDir(), "bench.webm"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { f.Close() })
	return f
}
