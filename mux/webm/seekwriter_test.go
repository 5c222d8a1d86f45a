package webm

import (
	"bytes"
	"testing"
	"time"

	"github.com/kiroku-sfu/kiroku/mux"
)

// memWriterAtSeeker is a memWriteSeeker that also has WriteAt, as an
// *os.File has, so the Writer patches with positioned writes.
type memWriterAtSeeker struct {
	memWriteSeeker
	positioned int // WriteAt calls
}

func (m *memWriterAtSeeker) WriteAt(p []byte, off int64) (int, error) {
	m.positioned++
	return m.f.WriteAt(p, off)
}

// TestPositionedWritesSameBytes writes the same frames, flushed often so
// that cluster sizes are patched after their bytes reached the file,
// through a destination with WriteAt and one with only Write and Seek:
// the files must be identical, and the first must have been patched with
// WriteAt while frames were written.
func TestPositionedWritesSameBytes(t *testing.T) {
	var video, audio []mux.Frame
	for pts := time.Duration(0); pts < 6*time.Second; pts += 33 * time.Millisecond {
		f := mux.Frame{PTS: pts, Data: bytes.Repeat([]byte{byte(pts / time.Millisecond)}, 300)}
		if pts%(990*time.Millisecond) == 0 {
			f.Keyframe, f.Config = true, &mux.VideoConfig{Width: 32, Height: 16}
		}
		video = append(video, f)
		audio = append(audio, mux.Frame{PTS: pts + 10*time.Millisecond, Keyframe: true, Data: []byte{9, 9, 9}})
	}
	patched := 0 // positioned writes before Close
	write := func(ws interface {
		Write([]byte) (int, error)
		Seek(int64, int) (int64, error)
	}) {
		w, err := NewWriter(ws, &mux.TrackInfo{Codec: mux.VP8}, &mux.TrackInfo{Codec: mux.Opus, Channels: 1},
			Options{FlushInterval: 250 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		feedWith(t, w, video, audio, nil)
		if p, ok := ws.(*memWriterAtSeeker); ok {
			patched = p.positioned
		}
		if _, err := w.Close(0); err != nil {
			t.Fatal(err)
		}
	}
	seeker := &memWriteSeeker{f: memFile{limit: 1 << 30}}
	positioned := &memWriterAtSeeker{memWriteSeeker: memWriteSeeker{f: memFile{limit: 1 << 30}}}
	write(seeker)
	write(positioned)
	if !bytes.Equal(seeker.f.b, positioned.f.b) {
		t.Fatalf("files differ: %d bytes with Seek, %d with WriteAt", len(seeker.f.b), len(positioned.f.b))
	}
	if patched < 3 {
		t.Fatalf("%d positioned writes before Close, want the cluster sizes patched with WriteAt", patched)
	}
}

// TestClustersWrittenWhole writes 20 s with a keyframe every flush
// interval (a long capture's usual shape): each write holds whole
// clusters, so no cluster size needs patching in the file (the one
// positioned write is the Tracks element completed by the first keyframe).
func TestClustersWrittenWhole(t *testing.T) {
	ws := &memWriterAtSeeker{memWriteSeeker: memWriteSeeker{f: memFile{limit: 1 << 30}}}
	w, err := NewWriter(ws, &mux.TrackInfo{Codec: mux.VP8}, &mux.TrackInfo{Codec: mux.Opus, Channels: 1},
		Options{FlushInterval: MaxFlushInterval})
	if err != nil {
		t.Fatal(err)
	}
	var video, audio []mux.Frame
	for pts := time.Duration(0); pts < 20*time.Second; pts += 20 * time.Millisecond {
		if pts%(40*time.Millisecond) == 0 {
			f := mux.Frame{PTS: pts, Data: []byte{1, 2, 3}}
			if pts%MaxFlushInterval == 0 {
				f.Keyframe, f.Config = true, &mux.VideoConfig{Width: 32, Height: 16}
			}
			video = append(video, f)
		}
		audio = append(audio, mux.Frame{PTS: pts + 7*time.Millisecond, Keyframe: true, Data: []byte{9}})
	}
	feedWith(t, w, video, audio, nil)
	if ws.positioned != 1 {
		t.Fatalf("%d positioned writes while writing, want 1 (Tracks): clusters were cut by writes", ws.positioned)
	}
	if _, err := w.Close(0); err != nil {
		t.Fatal(err)
	}
}
