package rtpdump

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtp"
)

var testHeader = Header{
	Start:  time.Date(2026, 1, 2, 3, 4, 5, 678000, time.UTC),
	Source: netip.MustParseAddr("127.0.0.1"),
	Port:   5004,
}

func rtpBytes(t testing.TB, seq uint16, payloadLen int) []byte {
	t.Helper()
	p := rtp.Packet{
		Header:  rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: seq, Timestamp: 3000 * uint32(seq), SSRC: 1},
		Payload: bytes.Repeat([]byte{byte(seq)}, payloadLen),
	}
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func encode(t testing.TB, h Header, pkts []Packet) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, h)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pkts {
		if err := w.WritePacket(p); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func readAll(r *Reader) ([]Packet, error) {
	var out []Packet
	for {
		p, err := r.Next()
		if err != nil {
			return out, err
		}
		p.Data = bytes.Clone(p.Data)
		out = append(out, p)
	}
}

func TestRoundTrip(t *testing.T) {
	rtcp := []byte{0x80, 200, 0, 6, 0, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 9, 0, 0, 0, 1, 0, 0, 0, 2}
	tests := []struct {
		name string
		pkts []Packet
	}{
		{"empty", nil},
		{"one rtp", []Packet{{Offset: 0, Data: rtpBytes(t, 1, 10)}}},
		{"rtp and rtcp", []Packet{
			{Offset: 5 * time.Millisecond, Data: rtpBytes(t, 1, 100)},
			{Offset: 6 * time.Millisecond, Data: rtcp, RTCP: true},
			{Offset: 70 * time.Second, Data: rtpBytes(t, 2, 1)},
		}},
		{"largest packet", []Packet{{Offset: time.Millisecond, Data: rtpBytes(t, 3, MaxPacketSize-12)}}},
		{"largest offset", []Packet{{Offset: maxOffset, Data: rtpBytes(t, 4, 1)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := encode(t, testHeader, tt.pkts)
			r, err := NewReader(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Header(); !got.Start.Equal(testHeader.Start) || got.Source != testHeader.Source || got.Port != testHeader.Port {
				t.Fatalf("header = %+v, want %+v", got, testHeader)
			}
			if r.Address() != "127.0.0.1/5004" {
				t.Fatalf("address = %q", r.Address())
			}
			got, err := readAll(r)
			if !errors.Is(err, io.EOF) {
				t.Fatalf("end: %v, want io.EOF", err)
			}
			if len(got) != len(tt.pkts) {
				t.Fatalf("read %d packets, want %d", len(got), len(tt.pkts))
			}
			for i := range got {
				w := tt.pkts[i]
				if got[i].Offset != w.Offset || got[i].RTCP != w.RTCP || !bytes.Equal(got[i].Data, w.Data) {
					t.Errorf("packet %d = {%v %v %d bytes}, want {%v %v %d bytes}", i,
						got[i].Offset, got[i].RTCP, len(got[i].Data), w.Offset, w.RTCP, len(w.Data))
				}
			}
		})
	}
}

func TestWriterLayout(t *testing.T) {
	data := encode(t, testHeader, []Packet{{Offset: 1500 * time.Microsecond, Data: []byte{0x80, 0, 0, 1}}})
	want := []byte("#!rtpplay1.0 127.0.0.1/5004\n")
	want = binary.BigEndian.AppendUint32(want, uint32(testHeader.Start.Unix()))
	want = binary.BigEndian.AppendUint32(want, 678)
	want = append(want, 127, 0, 0, 1, 0x13, 0x8c, 0, 0)
	want = append(want, 0, 12, 0, 4, 0, 0, 0, 1, 0x80, 0, 0, 1)
	if !bytes.Equal(data, want) {
		t.Fatalf("bytes\n got %x\nwant %x", data, want)
	}
}

func TestWriterRejects(t *testing.T) {
	tests := []struct {
		name string
		p    Packet
	}{
		{"too large", Packet{Data: make([]byte, MaxPacketSize+1)}},
		{"negative offset", Packet{Offset: -time.Millisecond, Data: []byte{1}}},
		{"offset overflow", Packet{Offset: maxOffset + time.Millisecond, Data: []byte{1}}},
		{"empty rtp", Packet{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := NewWriter(io.Discard, testHeader)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.WritePacket(tt.p); err == nil {
				t.Fatal("WritePacket succeeded")
			}
		})
	}
	if _, err := NewWriter(io.Discard, Header{Source: netip.MustParseAddr("::1")}); err == nil {
		t.Fatal("NewWriter accepted an IPv6 source")
	}
}

func TestReaderErrors(t *testing.T) {
	good := encode(t, testHeader, []Packet{{Offset: time.Millisecond, Data: rtpBytes(t, 1, 20)}})
	pre := len("#!rtpplay1.0 127.0.0.1/5004\n") + fileHeaderLen
	withRecord := func(length, plen uint16) []byte {
		b := bytes.Clone(good[:pre])
		b = binary.BigEndian.AppendUint16(b, length)
		b = binary.BigEndian.AppendUint16(b, plen)
		b = binary.BigEndian.AppendUint32(b, 0)
		return append(b, make([]byte, 40)...)
	}
	tests := []struct {
		name     string
		data     []byte
		atHeader bool
		want     error
	}{
		{"empty", nil, true, io.ErrUnexpectedEOF},
		{"wrong magic", []byte("#!rtpplay2.0 1.2.3.4/5\n"), true, ErrFormat},
		{"no port", []byte("#!rtpplay1.0 1.2.3.4\n"), true, ErrFormat},
		{"bad port", []byte("#!rtpplay1.0 1.2.3.4/70000\n"), true, ErrFormat},
		{"endless line", append([]byte("#!rtpplay1.0 "), bytes.Repeat([]byte("a"), 4096)...), true, ErrFormat},
		{"short binary header", good[:pre-3], true, io.ErrUnexpectedEOF},
		{"truncated record header", good[:pre+5], false, io.ErrUnexpectedEOF},
		{"truncated packet", good[:len(good)-1], false, io.ErrUnexpectedEOF},
		{"length below header", withRecord(7, 0), false, ErrFormat},
		{"plen below stored", withRecord(48, 20), false, ErrFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(tt.data))
			if tt.atHeader {
				if !errors.Is(err, tt.want) {
					t.Fatalf("NewReader: %v, want %v", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, err := readAll(r); !errors.Is(err, tt.want) {
				t.Fatalf("Next: %v, want %v", err, tt.want)
			}
			if _, err := r.Next(); !errors.Is(err, tt.want) {
				t.Fatalf("Next after the error: %v, want %v again", err, tt.want)
			}
		})
	}
}

func TestTruncatedCapture(t *testing.T) {
	// A record storing fewer bytes than plen (rtpdump -F header captures)
	// is valid and keeps its RTP marking.
	var buf bytes.Buffer
	buf.WriteString("#!rtpplay1.0 10.0.0.1/9\n")
	buf.Write(make([]byte, fileHeaderLen))
	buf.Write([]byte{0, 20, 0x04, 0, 0, 0, 0, 7})
	buf.Write(rtpBytes(t, 9, 0))
	r, err := NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	p, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	if p.RTCP || len(p.Data) != 12 || p.Offset != 7*time.Millisecond {
		t.Fatalf("packet = %+v", p)
	}
	var rp rtp.Packet
	if err := p.UnmarshalRTP(&rp); err != nil || rp.SequenceNumber != 9 {
		t.Fatalf("UnmarshalRTP: %v, seq %d", err, rp.SequenceNumber)
	}
	if err := (Packet{RTCP: true, Data: p.Data}).UnmarshalRTP(&rp); err == nil {
		t.Fatal("UnmarshalRTP accepted RTCP")
	}
}

// BenchmarkReaderNext reads a capture of 1000 packets per iteration;
// steady-state reading allocates nothing.
func BenchmarkReaderNext(b *testing.B) {
	pkts := make([]Packet, 1000)
	for i := range pkts {
		pkts[i] = Packet{Offset: time.Duration(i) * time.Millisecond, Data: rtpBytes(b, uint16(i), 1100)}
	}
	data := encode(b, testHeader, pkts)
	src := bytes.NewReader(data)
	r, err := NewReader(src)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		for {
			_, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		// Rewinding reads the file header again; keep it out of the numbers.
		b.StopTimer()
		src.Reset(data)
		r.src.reset(src)
		r.err = nil
		if err := r.readPreamble(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

func TestReaderNextDoesNotAllocate(t *testing.T) {
	pkts := make([]Packet, 200)
	for i := range pkts {
		pkts[i] = Packet{Data: rtpBytes(t, uint16(i), 1000+i)}
	}
	r, err := NewReader(bytes.NewReader(encode(t, testHeader, pkts)))
	if err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := r.Next(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("Next allocates %v times per packet", allocs)
	}
}
