package rtpdump

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// fixtureSeedBytes bounds how much of each committed capture seeds the fuzzer.
const fixtureSeedBytes = 8 << 10

func FuzzReader(f *testing.F) {
	paths, err := filepath.Glob("../../fixtures/rtpdumps/*.rtpdump")
	if err != nil {
		f.Fatal(err)
	}
	if len(paths) == 0 {
		f.Fatal("no committed captures under fixtures/rtpdumps to seed the fuzzer")
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data[:min(len(data), fixtureSeedBytes)])
	}
	f.Add([]byte("#!rtpplay1.0 1.2.3.4/5\n"))
	f.Add(append([]byte("#!rtpplay1.0 1.2.3.4/5\n"), make([]byte, 24)...))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReader(bytes.NewReader(data))
		if err != nil {
			return
		}
		var out bytes.Buffer
		w, err := NewWriter(&out, r.Header())
		if err != nil {
			t.Fatalf("header read back does not write: %v", err)
		}
		for {
			p, err := r.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				if !errors.Is(err, ErrFormat) && !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Fatalf("unexpected error kind: %v", err)
				}
				return
			}
			if len(p.Data) > MaxPacketSize {
				t.Fatalf("packet of %d bytes", len(p.Data))
			}
			if len(p.Data) > 0 || p.RTCP {
				if err := w.WritePacket(p); err != nil {
					t.Fatalf("packet read back does not write: %v", err)
				}
			}
		}
	})
}
