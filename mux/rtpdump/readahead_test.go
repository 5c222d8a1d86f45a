package rtpdump

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
	"time"
)

// TestReaderShortReads reads the same capture from sources that return a
// byte at a time, half of what is asked, or the last bytes with io.EOF:
// every packet comes out whole, and a capture cut inside a record is
// io.ErrUnexpectedEOF, as from a plain reader.
func TestReaderShortReads(t *testing.T) {
	pkts := make([]Packet, 300)
	for i := range pkts {
		pkts[i] = Packet{Offset: time.Duration(i) * time.Millisecond, Data: rtpBytes(t, uint16(i), 1+i*7%1400)}
	}
	data := encode(t, testHeader, pkts)
	sources := map[string]func([]byte) io.Reader{
		"plain":    func(b []byte) io.Reader { return bytes.NewReader(b) },
		"one byte": func(b []byte) io.Reader { return iotest.OneByteReader(bytes.NewReader(b)) },
		"half":     func(b []byte) io.Reader { return iotest.HalfReader(bytes.NewReader(b)) },
		"data+EOF": func(b []byte) io.Reader { return iotest.DataErrReader(bytes.NewReader(b)) },
	}
	for name, src := range sources {
		t.Run(name, func(t *testing.T) {
			r, err := NewReader(src(data))
			if err != nil {
				t.Fatal(err)
			}
			for i, want := range pkts {
				got, err := r.Next()
				if err != nil || got.Offset != want.Offset || !bytes.Equal(got.Data, want.Data) {
					t.Fatalf("packet %d: %v at %v (%d bytes), want %v (%d bytes)", i, err, got.Offset, len(got.Data), want.Offset, len(want.Data))
				}
			}
			if _, err := r.Next(); !errors.Is(err, io.EOF) {
				t.Fatalf("after the last packet: %v, want io.EOF", err)
			}
			r, err = NewReader(src(data[:len(data)-3]))
			if err != nil {
				t.Fatal(err)
			}
			for range len(pkts) - 1 {
				if _, err := r.Next(); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := r.Next(); !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("cut record: %v, want io.ErrUnexpectedEOF", err)
			}
		})
	}
}
