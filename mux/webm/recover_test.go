package webm

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kiroku-sfu/kiroku/mux"
)

// memFile is an in-memory File. It refuses to grow past limit, so a
// hostile input cannot make a test allocate without bound.
type memFile struct {
	b     []byte
	limit int64
}

func (m *memFile) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off >= int64(len(m.b)) {
		return 0, io.EOF
	}
	n := copy(p, m.b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (m *memFile) WriteAt(p []byte, off int64) (int, error) {
	end := off + int64(len(p))
	if off < 0 || end > m.limit {
		return 0, errors.New("memFile: write out of bounds")
	}
	if end > int64(len(m.b)) {
		m.b = append(m.b, make([]byte, end-int64(len(m.b)))...)
	}
	return copy(m.b[off:], p), nil
}

func (m *memFile) Truncate(n int64) error {
	if n < 0 || n > int64(len(m.b)) {
		return errors.New("memFile: truncate out of bounds")
	}
	m.b = m.b[:n]
	return nil
}

func (m *memFile) Stat() (fs.FileInfo, error) { return memInfo(len(m.b)), nil }

type memInfo int64

func (i memInfo) Name() string       { return "mem.webm" }
func (i memInfo) Size() int64        { return int64(i) }
func (i memInfo) Mode() fs.FileMode  { return 0o644 }
func (i memInfo) ModTime() time.Time { return time.Time{} }
func (i memInfo) IsDir() bool        { return false }
func (i memInfo) Sys() any           { return nil }

// memWriteSeeker is an in-memory io.WriteSeeker for building test files.
type memWriteSeeker struct {
	f   memFile
	pos int64
}

func (m *memWriteSeeker) Write(p []byte) (int, error) {
	n, err := m.f.WriteAt(p, m.pos)
	m.pos += int64(n)
	return n, err
}

func (m *memWriteSeeker) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
		m.pos = off
	case io.SeekCurrent:
		m.pos += off
	case io.SeekEnd:
		m.pos = int64(len(m.f.b)) + off
	}
	return m.pos, nil
}

// synthFile writes synthetic frames (a keyframe every second, 3 s) and
// returns the bytes on "disk" after Flush (as a crash would leave them)
// and after Close.
func synthFile(t testing.TB) (crashed, closed []byte) {
	t.Helper()
	ws := &memWriteSeeker{f: memFile{limit: 1 << 30}}
	w, err := NewWriter(ws, &mux.TrackInfo{Codec: mux.VP8}, &mux.TrackInfo{Codec: mux.Opus, Channels: 1}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var video, audio []mux.Frame
	for pts := time.Duration(0); pts < 3*time.Second; pts += 100 * time.Millisecond {
		f := mux.Frame{PTS: pts, Data: []byte{1, 2, 3, 4}}
		if pts%time.Second == 0 {
			f.Keyframe, f.Config = true, &mux.VideoConfig{Width: 32, Height: 16}
		}
		video = append(video, f)
		audio = append(audio, mux.Frame{PTS: pts + 10*time.Millisecond, Keyframe: true, Data: []byte{9, 9}},
			mux.Frame{PTS: pts + 60*time.Millisecond, Keyframe: true, Data: []byte{8}})
	}
	feedWith(t, w, video, audio, nil)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	crashed = bytes.Clone(ws.f.b)
	if _, err := w.Close(0); err != nil {
		t.Fatal(err)
	}
	return crashed, ws.f.b
}

// TestRecoverCutFile recovers a crashed file cut at many lengths: cuts
// before the end of Tracks fail without touching the file, later ones keep
// every complete block before the cut, and the result recovers again
// unchanged.
func TestRecoverCutFile(t *testing.T) {
	crashed, _ := synthFile(t)
	tracksAt := bytes.Index(crashed, idBytes(idTracks))
	h, err := parseHeader(crashed[tracksAt:])
	if err != nil {
		t.Fatal(err)
	}
	headEnd := int64(tracksAt+h.hdrLen) + int64(h.size)
	prev := -1
	for cut := int64(0); cut <= int64(len(crashed)); cut += 7 {
		m := &memFile{b: bytes.Clone(crashed[:cut]), limit: 1 << 20}
		st, err := Recover(m)
		if cut < headEnd {
			if err == nil || !bytes.Equal(m.b, crashed[:cut]) {
				t.Fatalf("cut %d in the head: err %v, file changed %v", cut, err, !bytes.Equal(m.b, crashed[:cut]))
			}
			continue
		}
		if err != nil {
			t.Fatalf("cut %d: %v", cut, err)
		}
		n := st.VideoFrames + st.AudioFrames
		if n < prev {
			t.Fatalf("cut %d recovered %d frames, fewer than %d at a shorter cut", cut, n, prev)
		}
		prev = n
		first := bytes.Clone(m.b)
		if again, err := Recover(m); err != nil || again != st || !bytes.Equal(m.b, first) {
			t.Fatalf("cut %d: recovering again gave %+v, %v (changed %v); want %+v",
				cut, again, err, !bytes.Equal(m.b, first), st)
		}
	}
	if prev != 90 {
		t.Errorf("the whole flushed file recovered %d frames, want 90", prev)
	}
}

// TestRecoverMatchesClose checks that recovering a crashed file gives the
// same file as closing it would (with the same end), byte for byte.
func TestRecoverMatchesClose(t *testing.T) {
	crashed, closed := synthFile(t)
	before := filepath.Join(t.TempDir(), "crashed.webm")
	if err := os.WriteFile(before, crashed, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, _ := run(t, "mkvinfo", "-a", before); !strings.Contains(out, "Segment: size unknown") {
		t.Errorf("the crashed file should have a Segment of unknown size:\n%s", out)
	}
	m := &memFile{b: crashed, limit: 1 << 20}
	if _, err := Recover(m); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(m.b, closed) {
		t.Errorf("recovered file (%d bytes) differs from the closed one (%d bytes)", len(m.b), len(closed))
	}
	path := filepath.Join(t.TempDir(), "r.webm")
	if err := os.WriteFile(path, m.b, 0o644); err != nil {
		t.Fatal(err)
	}
	if rep := mkvCheck(t, path); rep.blocks[1] != 30 || rep.blocks[2] != 60 || rep.clusters != 3 {
		t.Errorf("mkvinfo sees %d clusters and blocks %v; want 3, 30 video, 60 audio", rep.clusters, rep.blocks)
	}
}

func TestRecoverRejects(t *testing.T) {
	crashed, _ := synthFile(t)
	headEnd := bytes.Index(crashed, idBytes(idCluster))
	edit := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(crashed)) }
	tests := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"not EBML", []byte("RIFF....WAVEfmt ")},
		{"matroska doc type", edit(func(b []byte) []byte {
			i := bytes.Index(b, []byte("webm"))
			copy(b[i:], "mkvx")
			return b
		})},
		{"cluster laced block then more", edit(func(b []byte) []byte {
			i := headEnd + 12 + 3 // first SimpleBlock after the cluster's Timecode
			b[i+5] |= 0x02        // its flags byte: Xiph lacing
			return b
		})},
		{"block of an undeclared track", edit(func(b []byte) []byte {
			b[headEnd+12+3+2] = 0x83
			return b
		})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := &memFile{b: bytes.Clone(tc.b), limit: 1 << 20}
			if _, err := Recover(m); err == nil {
				t.Fatal("Recover accepted it")
			}
			if !bytes.Equal(m.b, tc.b) {
				t.Error("Recover changed a file it rejected")
			}
		})
	}
}

// FuzzRecover feeds hostile files to Recover: it must fail cleanly without
// touching the file, or produce a file that recovers again unchanged.
func FuzzRecover(f *testing.F) {
	crashed, closed := synthFile(f)
	f.Add(crashed)
	f.Add(closed)
	f.Add(crashed[:len(crashed)-3])
	f.Add(crashed[:4400])
	f.Fuzz(func(t *testing.T, b []byte) {
		m := &memFile{b: bytes.Clone(b), limit: int64(len(b)) + 1<<20}
		st, err := Recover(m)
		if err != nil {
			if !bytes.Equal(m.b, b) {
				t.Fatalf("Recover failed (%v) but changed the file", err)
			}
			return
		}
		first := bytes.Clone(m.b)
		again, err := Recover(m)
		if err != nil || again != st || !bytes.Equal(m.b, first) {
			t.Fatalf("recovering again gave %+v, %v; want %+v", again, err, st)
		}
	})
}
