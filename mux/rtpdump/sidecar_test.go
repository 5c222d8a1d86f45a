package rtpdump

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kiroku-sfu/kiroku/mux"
)

const validSidecar = `{"description": "test", "streams": [
 {"ssrc": 1, "kind": "video", "codec": "vp8", "payload_type": 96, "clock_rate": 90000, "channels": 0, "fmtp": ""},
 {"ssrc": 2, "kind": "audio", "codec": "OPUS", "payload_type": 111, "clock_rate": 48000, "channels": 2, "fmtp": "minptime=10"},
 {"ssrc": 3, "kind": "video", "codec": "VP8", "payload_type": 96, "clock_rate": 90000, "channels": 0, "fmtp": ""}]}`

func TestParseSidecar(t *testing.T) {
	s, err := ParseSidecar([]byte(validSidecar))
	if err != nil {
		t.Fatal(err)
	}
	if s.Streams[0].Codec != mux.VP8 || s.Streams[1].Codec != mux.Opus {
		t.Fatalf("codecs not normalised: %v %v", s.Streams[0].Codec, s.Streams[1].Codec)
	}
	if st, ok := s.Stream(2); !ok || st.TrackInfo() != (mux.TrackInfo{Codec: mux.Opus, ClockRate: 48000, Channels: 2}) {
		t.Fatalf("Stream(2) = %+v, %v", st, ok)
	}
	if _, ok := s.Stream(4); ok {
		t.Fatal("Stream(4) found")
	}
}

func TestParseSidecarErrors(t *testing.T) {
	stream := func(fields string) string {
		return `{"description": "d", "streams": [{` + fields + `}]}`
	}
	tests := []struct {
		name, json, want string
	}{
		{"not json", `{`, "decode"},
		{"unknown field", `{"description": "", "streams": [], "extra": 1}`, "unknown field"},
		{"trailing data", validSidecar + `{}`, "after the JSON"},
		{"no streams", `{"description": "", "streams": []}`, "no streams"},
		{"unknown codec", stream(`"ssrc": 1, "kind": "video", "codec": "MPEG2", "clock_rate": 90000`), "unknown codec"},
		{"kind mismatch", stream(`"ssrc": 1, "kind": "audio", "codec": "VP9", "clock_rate": 90000, "channels": 1`), "does not match"},
		{"bad payload type", stream(`"ssrc": 1, "kind": "video", "codec": "AV1", "payload_type": 128, "clock_rate": 90000`), "payload type"},
		{"zero clock", stream(`"ssrc": 1, "kind": "video", "codec": "H264", "clock_rate": 0`), "clock rate"},
		{"no channels", stream(`"ssrc": 1, "kind": "audio", "codec": "opus", "clock_rate": 48000, "channels": 0`), "channels"},
		{"three channels", stream(`"ssrc": 1, "kind": "audio", "codec": "opus", "clock_rate": 48000, "channels": 3`), "channels"},
		{"video channels", stream(`"ssrc": 1, "kind": "video", "codec": "H265", "clock_rate": 90000, "channels": 1`), "channels"},
		{"duplicate ssrc", `{"description": "", "streams": [
			{"ssrc": 1, "kind": "video", "codec": "VP8", "clock_rate": 90000},
			{"ssrc": 1, "kind": "video", "codec": "VP8", "clock_rate": 90000}]}`, "twice"},
		{"mixed codecs in a kind", `{"description": "", "streams": [
			{"ssrc": 1, "kind": "video", "codec": "VP8", "clock_rate": 90000},
			{"ssrc": 2, "kind": "video", "codec": "VP9", "clock_rate": 90000}]}`, "one track"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseSidecar([]byte(tt.json))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestSidecarMarshalRoundTrip(t *testing.T) {
	s, err := ParseSidecar([]byte(validSidecar))
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.MarshalIndent()
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"description"`, `"ssrc"`, `"kind"`, `"codec"`, `"payload_type"`, `"clock_rate"`, `"channels"`, `"fmtp"`} {
		if !bytes.Contains(b, []byte(key)) {
			t.Errorf("encoded sidecar lacks %s:\n%s", key, b)
		}
	}
	back, err := ParseSidecar(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Streams) != 3 || back.Streams[2] != s.Streams[2] {
		t.Fatalf("round trip changed the sidecar: %+v", back)
	}
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "cap")
	data := encode(t, testHeader, []Packet{{Offset: time.Second, Data: rtpBytes(t, 7, 30)}})
	if err := os.WriteFile(base+".rtpdump", data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(base + ".rtpdump"); err == nil {
		t.Fatal("Open succeeded without a sidecar")
	}
	if err := os.WriteFile(base+".json", []byte(validSidecar), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{base, base + ".rtpdump"} {
		c, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		p, err := c.Next()
		if err != nil || p.Offset != time.Second {
			t.Fatalf("Next = %+v, %v", p, err)
		}
		if _, err := c.Next(); !errors.Is(err, io.EOF) {
			t.Fatalf("Next at end: %v", err)
		}
		if c.Sidecar.Description != "test" || len(c.Sidecar.Streams) != 3 {
			t.Fatalf("sidecar = %+v", c.Sidecar)
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(base+".rtpdump", []byte("garbage\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(base); !errors.Is(err, ErrFormat) {
		t.Fatalf("Open of a malformed capture: %v", err)
	}
}

func TestLoadSidecarTooLarge(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.json")
	if err := os.WriteFile(path, bytes.Repeat([]byte(" "), maxSidecarSize+1), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadSidecar(path); err == nil || !strings.Contains(err.Error(), "larger") {
		t.Fatalf("LoadSidecar: %v", err)
	}
}
