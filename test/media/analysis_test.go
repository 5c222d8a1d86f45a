package media

import (
	"testing"
	"time"

	"github.com/pion/rtcp"
)

// TestSRTime checks the capture clock the suite judges against, including
// timestamps on both sides of a 32-bit wrap.
func TestSRTime(t *testing.T) {
	sr := rtcp.SenderReport{NTPTime: 100<<32 | 1<<31, RTPTime: 0xffff_fff0} // 100.5 s
	tests := []struct {
		name  string
		ts    uint32
		clock uint32
		want  time.Duration
	}{
		{"at the report", 0xffff_fff0, 90000, 100500 * time.Millisecond},
		{"one second later, wrapped", 90000 - 16, 90000, 101500 * time.Millisecond},
		{"20 ms earlier, audio", 0xffff_fff0 - 960, 48000, 100480 * time.Millisecond},
	}
	for _, tc := range tests {
		if got := srTime(sr, tc.ts, tc.clock); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestParseFrameCRC checks the reading of ffmpeg's framecrc output.
func TestParseFrameCRC(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []decodedFrame
		wantErr bool
	}{
		{"empty", "#tb 0: 1/1000\n", nil, false},
		{"two frames", "#tb 0: 1/90000\n#media_type 0: video\n0, 0, 0, 1, 460800, 0x1\n0, 3000, 3000, 1, 115200, 0x2\n",
			[]decodedFrame{{0, 460800}, {time.Second / 30, 115200}}, false},
		{"short line", "#tb 0: 1/1000\n0, 0, 0\n", nil, true},
		{"bad time base", "#tb 0: 1/0\n", nil, true},
		{"bad number", "#tb 0: 1/1000\n0, x, x, 1, 5, 0x1\n", nil, true},
	}
	for _, tc := range tests {
		got, err := parseFrameCRC(tc.in)
		if (err != nil) != tc.wantErr || len(got) != len(tc.want) {
			t.Errorf("%s: %v, %v; want %v (error %v)", tc.name, got, err, tc.want, tc.wantErr)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%s: frame %d is %+v, want %+v", tc.name, i, got[i], tc.want[i])
			}
		}
	}
}

// TestVariantOf checks that every fixture name maps to its variant rule
// and clean original.
func TestVariantOf(t *testing.T) {
	tests := []struct{ name, suffix, clean string }{
		{"vp8_opus", "", "vp8_opus"},
		{"h264_cb_opus_loss3", "_loss3", "h264_cb_opus"},
		{"vp9_opus_resize", "_resize", "vp9_opus"},
		{"av1_opus_dtx", "_dtx", "av1_opus"},
	}
	for _, tc := range tests {
		v, clean := variantOf(tc.name)
		if v.suffix != tc.suffix || clean != tc.clean {
			t.Errorf("%s: variant %q of %q, want %q of %q", tc.name, v.suffix, clean, tc.suffix, tc.clean)
		}
	}
}
