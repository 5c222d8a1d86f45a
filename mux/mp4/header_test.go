package mp4

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"reflect"
	"testing"

	gomp4 "github.com/abema/go-mp4"

	"github.com/kiroku-sfu/kiroku/mux"
)

// noTruncate hides a memFile's Truncate, like a writer that cannot grow.
type noTruncate struct {
	io.WriteSeeker
	io.ReaderAt
}

// TestReservedRegion checks that a new file, however its reserved region is
// produced (grown by Truncate, or zeros written), reads as ftyp, the init
// moov and a free box of zeros that ends exactly where the file does.
func TestReservedRegion(t *testing.T) {
	const reserved = 64 << 10
	tests := []struct {
		name  string
		open  func(t *testing.T) io.WriteSeeker
		bytes func(t *testing.T, ws io.WriteSeeker) []byte
	}{
		{"os.File", func(t *testing.T) io.WriteSeeker { return createFile(t, "new.mp4") },
			func(t *testing.T, ws io.WriteSeeker) []byte {
				b, err := os.ReadFile(ws.(*os.File).Name())
				if err != nil {
					t.Fatal(err)
				}
				return b
			}},
		{"growing truncate fails", func(*testing.T) io.WriteSeeker { return &memFile{} },
			func(_ *testing.T, ws io.WriteSeeker) []byte { return ws.(*memFile).b }},
		{"no truncate", func(*testing.T) io.WriteSeeker { m := &memFile{}; return noTruncate{m, m} },
			func(_ *testing.T, ws io.WriteSeeker) []byte { return ws.(noTruncate).ReaderAt.(*memFile).b }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws := tt.open(t)
			w, err := NewWriter(ws, &synthVideo, &synthAudio, Options{ReservedHeaderBytes: reserved})
			if err != nil {
				t.Fatalf("NewWriter: %v", err)
			}
			b := tt.bytes(t, ws)
			if int64(len(b)) != w.pos || w.pos != w.moovOff+reserved {
				t.Fatalf("file of %d bytes, writer at %d, region ends at %d", len(b), w.pos, w.moovOff+reserved)
			}
			checkRegion(t, b)
		})
	}
}

// checkRegion fails unless b is ftyp, moov and a free box of zeros.
func checkRegion(t *testing.T, b []byte) {
	t.Helper()
	top, err := gomp4.ExtractBoxes(bytes.NewReader(b), nil, []gomp4.BoxPath{{gomp4.BoxTypeAny()}})
	if err != nil {
		t.Fatalf("read top-level boxes: %v", err)
	}
	var types []string
	for _, bi := range top {
		types = append(types, bi.Type.String())
	}
	if len(top) != 3 || types[0] != "ftyp" || types[1] != "moov" || types[2] != "free" {
		t.Fatalf("top-level boxes %v, want ftyp moov free", types)
	}
	free := top[2]
	if free.Offset+free.Size != uint64(len(b)) {
		t.Errorf("free box ends at %d, file at %d", free.Offset+free.Size, len(b))
	}
	payload := b[free.Offset+free.HeaderSize:]
	if !bytes.Equal(payload, make([]byte, len(payload))) {
		t.Error("free box payload is not zeros")
	}
}

// TestWriterKnowsInitMoov checks that the tracks a Writer hands to Close
// are what Recover reads back from the init moov, before and after a
// keyframe adds a sample entry.
func TestWriterKnowsInitMoov(t *testing.T) {
	m := &memFile{}
	w, err := NewWriter(m, &synthVideo, &synthAudio, Options{})
	if err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		size := binary.BigEndian.Uint32(m.b[w.moovOff:])
		p, err := parseMoov(m.b[w.moovOff : w.moovOff+int64(size)])
		if err != nil {
			t.Fatalf("%s: parse init moov: %v", when, err)
		}
		if got := w.trackMetas(); !reflect.DeepEqual(got, p.tracks) {
			t.Errorf("%s: writer's tracks\n%+v\ninit moov's\n%+v", when, got, p.tracks)
		}
	}
	check("new")
	cfg := &mux.VideoConfig{Width: 640, Height: 480, BitDepth: 8}
	if err := w.WriteFrame(mux.Video, mux.Frame{Keyframe: true, Config: cfg, Data: []byte{1}}); err != nil {
		t.Fatal(err)
	}
	check("after a keyframe")
}
