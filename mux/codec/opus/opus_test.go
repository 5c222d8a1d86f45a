package opus

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

func toc(config, stereo, code byte) byte { return config<<3 | stereo<<2 | code }

func TestPacketDuration(t *testing.T) {
	big := make([]byte, 1+1276)
	big[0] = toc(31, 0, 0)
	tests := []struct {
		name string
		pkt  []byte
		want time.Duration
		err  error
	}{
		{"empty", nil, 0, ErrEmptyPacket},
		{"SILK NB 10 ms", []byte{toc(0, 0, 0), 1}, 10 * time.Millisecond, nil},
		{"SILK WB 60 ms", []byte{toc(11, 0, 0), 1}, 60 * time.Millisecond, nil},
		{"hybrid SWB 20 ms", []byte{toc(13, 1, 0), 1}, 20 * time.Millisecond, nil},
		{"CELT 2.5 ms", []byte{toc(16, 0, 0)}, 2500 * time.Microsecond, nil},
		{"CELT FB 20 ms DTX", []byte{toc(31, 1, 0)}, 20 * time.Millisecond, nil},
		{"code 0 frame too long", big, 0, ErrMalformed},
		{"code 1 two 20 ms", []byte{toc(31, 0, 1), 1, 2}, 40 * time.Millisecond, nil},
		{"code 1 odd length", []byte{toc(31, 0, 1), 1, 2, 3}, 0, ErrMalformed},
		{"code 2", []byte{toc(31, 0, 2), 2, 1, 2, 3}, 40 * time.Millisecond, nil},
		{"code 2 two-byte length", append([]byte{toc(31, 0, 2), 252, 0}, make([]byte, 252)...), 40 * time.Millisecond, nil},
		{"code 2 first too long", []byte{toc(31, 0, 2), 5, 1}, 0, ErrMalformed},
		{"code 2 missing length", []byte{toc(31, 0, 2)}, 0, ErrMalformed},
		{"code 2 truncated length", []byte{toc(31, 0, 2), 253}, 0, ErrMalformed},
		{"code 3 missing count", []byte{toc(31, 0, 3)}, 0, ErrMalformed},
		{"code 3 zero frames", []byte{toc(31, 0, 3), 0}, 0, ErrMalformed},
		{"code 3 CBR 3x20 ms", []byte{toc(31, 0, 3), 3, 1, 2, 3}, 60 * time.Millisecond, nil},
		{"code 3 CBR uneven", []byte{toc(31, 0, 3), 3, 1, 2}, 0, ErrMalformed},
		{"code 3 6x20 ms is 120 ms", []byte{toc(31, 0, 3), 6}, 120 * time.Millisecond, nil},
		{"code 3 7x20 ms over 120 ms", []byte{toc(31, 0, 3), 7}, 0, ErrMalformed},
		{"code 3 48x2.5 ms", []byte{toc(16, 0, 3), 48}, 120 * time.Millisecond, nil},
		{"code 3 49x2.5 ms", []byte{toc(16, 0, 3), 49}, 0, ErrMalformed},
		{"code 3 3x60 ms", []byte{toc(3, 0, 3), 2}, 120 * time.Millisecond, nil},
		{"code 3 padded", []byte{toc(31, 0, 3), 0x40 | 2, 2, 7, 8, 0, 0}, 40 * time.Millisecond, nil},
		{"code 3 long padding", append([]byte{toc(31, 0, 3), 0x40 | 1, 255, 0}, make([]byte, 254)...), 20 * time.Millisecond, nil},
		{"code 3 padding truncated", []byte{toc(31, 0, 3), 0x40 | 1, 255}, 0, ErrMalformed},
		{"code 3 padding too long", []byte{toc(31, 0, 3), 0x40 | 1, 9, 1}, 0, ErrMalformed},
		{"code 3 VBR", []byte{toc(31, 0, 3), 0x80 | 3, 1, 2, 9, 8, 8, 7}, 60 * time.Millisecond, nil},
		{"code 3 VBR lengths too long", []byte{toc(31, 0, 3), 0x80 | 3, 1, 5, 9}, 0, ErrMalformed},
		{"code 3 VBR missing length", []byte{toc(31, 0, 3), 0x80 | 3, 1}, 0, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := PacketDuration(tt.pkt)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if got != tt.want {
				t.Fatalf("duration = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAppendFrame(t *testing.T) {
	d := NewDepacketizer()
	pkt := []byte{toc(31, 1, 0), 0xaa, 0xbb}
	tests := []struct {
		name     string
		payloads [][]byte
		err      error
	}{
		{"one packet", [][]byte{pkt}, nil},
		{"none", nil, ErrPayloadCount},
		{"two", [][]byte{pkt, pkt}, ErrPayloadCount},
		{"empty", [][]byte{{}}, ErrEmptyPacket},
		{"bad framing", [][]byte{{toc(31, 0, 3), 0}}, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, info, err := d.AppendFrame([]byte{9}, tt.payloads)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if err != nil {
				if !bytes.Equal(got, []byte{9}) {
					t.Fatal("dst changed on error")
				}
				return
			}
			if !bytes.Equal(got, append([]byte{9}, pkt...)) || !info.Keyframe || info.Config != nil {
				t.Fatalf("got % x %+v", got, info)
			}
		})
	}
	if !d.IsFrameStart(pkt) || d.IsFrameStart(nil) {
		t.Fatal("IsFrameStart wrong")
	}
}

func TestHead(t *testing.T) {
	want := []byte{'O', 'p', 'u', 's', 'H', 'e', 'a', 'd', 1, 2, 0x38, 0x01, 0x80, 0xbb, 0, 0, 0, 0, 0}
	if got := Head(2, 312, 48000); !bytes.Equal(got, want) {
		t.Fatalf("Head = % x, want % x", got, want)
	}
}

// TestEncoderPackets checks PacketDuration and Head against libopus output
// for several channel counts and frame durations.
func TestEncoderPackets(t *testing.T) {
	tests := []struct {
		channels int
		frameMS  string
		want     time.Duration
	}{
		{1, "20", 20 * time.Millisecond},
		{2, "20", 20 * time.Millisecond},
		{2, "60", 60 * time.Millisecond},
		{1, "2.5", 2500 * time.Microsecond},
	}
	for _, tt := range tests {
		t.Run(tt.frameMS+"ms", func(t *testing.T) {
			pkts := encodeOgg(t, tt.channels, "-frame_duration", tt.frameMS)
			if len(pkts) < 3 {
				t.Fatalf("only %d Ogg packets", len(pkts))
			}
			// libopus's look-ahead depends on the frame size; take it from
			// the encoder and check every other field.
			if len(pkts[0]) != 19 {
				t.Fatalf("OpusHead of %d bytes", len(pkts[0]))
			}
			preSkip := binary.LittleEndian.Uint16(pkts[0][10:])
			if want := Head(tt.channels, preSkip, 48000); !bytes.Equal(pkts[0], want) {
				t.Fatalf("encoder's OpusHead % x, Head % x", pkts[0], want)
			}
			d := NewDepacketizer()
			for i, p := range pkts[2:] {
				got, err := PacketDuration(p)
				if err != nil || got != tt.want {
					t.Fatalf("packet %d: %v, %v; want %v", i, got, err, tt.want)
				}
				if _, _, err := d.AppendFrame(nil, [][]byte{p}); err != nil {
					t.Fatalf("packet %d: %v", i, err)
				}
			}
		})
	}
}

// encodeOgg encodes 2 s of a tone with libopus and returns the Ogg packets.
func encodeOgg(t *testing.T, channels int, args ...string) [][]byte {
	t.Helper()
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Fatalf("ffmpeg is required: %v", err)
	}
	out := filepath.Join(t.TempDir(), "a.ogg")
	cmd := append([]string{"-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-t", "2", "-ac", string(rune('0' + channels)), "-c:a", "libopus"}, args...)
	cmd = append(cmd, "-f", "ogg", out)
	if b, err := exec.Command(ffmpeg, cmd...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %v: %v\n%s", cmd, err, b)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return readOgg(t, raw)
}

// readOgg returns the packets of a single-stream Ogg file (RFC 3533).
func readOgg(t *testing.T, b []byte) [][]byte {
	t.Helper()
	var pkts [][]byte
	var cur []byte
	for len(b) > 0 {
		if len(b) < 27 || string(b[:4]) != "OggS" {
			t.Fatal("bad Ogg page header")
		}
		nseg := int(b[26])
		if len(b) < 27+nseg {
			t.Fatal("truncated segment table")
		}
		segs, body := b[27:27+nseg], b[27+nseg:]
		for _, s := range segs {
			if len(body) < int(s) {
				t.Fatal("truncated Ogg page")
			}
			cur, body = append(cur, body[:s]...), body[s:]
			if s < 255 {
				pkts, cur = append(pkts, cur), nil
			}
		}
		b = body
	}
	return pkts
}

func FuzzPacketDuration(f *testing.F) {
	f.Add([]byte{toc(31, 0, 3), 0x80 | 3, 1, 2, 9, 8, 8, 7})
	f.Add([]byte{toc(31, 0, 3), 0x40 | 1, 255, 0})
	f.Add([]byte{toc(31, 0, 2), 252, 0})
	f.Add([]byte{toc(11, 1, 1), 1, 2})
	f.Fuzz(func(t *testing.T, pkt []byte) {
		d, err := PacketDuration(pkt)
		if err == nil && (d <= 0 || d > 120*time.Millisecond) {
			t.Fatalf("duration %v out of range", d)
		}
	})
}

func FuzzDepacketize(f *testing.F) {
	f.Add([]byte{toc(31, 1, 0), 0xaa})
	f.Add([]byte{toc(31, 0, 3), 0x80 | 3, 1, 2, 9, 8, 8, 7})
	f.Fuzz(func(t *testing.T, pkt []byte) {
		out, _, err := NewDepacketizer().AppendFrame(nil, [][]byte{pkt})
		if err == nil && !bytes.Equal(out, pkt) {
			t.Fatal("packet changed")
		}
	})
}

func BenchmarkAppendFrame(b *testing.B) {
	pkt := append([]byte{toc(31, 1, 3), 0x80 | 3, 100, 100}, make([]byte, 300)...)
	d := NewDepacketizer()
	payloads := [][]byte{pkt}
	buf := make([]byte, 0, len(pkt))
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, _, err = d.AppendFrame(buf[:0], payloads); err != nil {
			b.Fatal(err)
		}
	}
}
