package loadgen

import (
	"strings"
	"testing"
)

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Config)
		want   string // "" for valid
	}{
		{"defaults with url", func(*Config) {}, ""},
		{"http url", func(c *Config) { c.URL = "http://127.0.0.1:5000/signaling" }, "url"},
		{"no channel", func(c *Config) { c.Channel = "" }, "channel"},
		{"no publisher", func(c *Config) { c.Publishers = 0 }, "publisher"},
		{"zero rate", func(c *Config) { c.Rate = 0 }, "rate"},
		{"tiny payload", func(c *Config) { c.PayloadBytes = StampBytes - 1 }, "payload"},
		{"huge payload", func(c *Config) { c.PayloadBytes = 1500 }, "payload"},
		{"hostname as local address", func(c *Config) { c.LocalAddress = "localhost" }, "local address"},
		{"ipv6 local address", func(c *Config) { c.LocalAddress = "::1" }, "local address"},
		{"no timeout", func(c *Config) { c.ConnectTimeout = 0 }, "timeout"},
		{"mixed codecs", func(c *Config) { c.VideoCodecs = []string{"VP8", "VP9", "AV1", "H264", "H265"} }, ""},
		{"unknown codec", func(c *Config) { c.VideoCodecs = []string{"VP8", "H266"} }, "H266"},
		{"lower-case codec", func(c *Config) { c.VideoCodecs = []string{"vp9"} }, "vp9"},
		{"simulcast", func(c *Config) { c.Simulcast = true }, ""},
		{"simulcast h264", func(c *Config) { c.Simulcast, c.VideoCodecs = true, []string{"H264"} }, "VP8"},
		{"simulcast tiny payload", func(c *Config) { c.Simulcast, c.PayloadBytes = true, StampBytes }, "keyframe"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			c.URL = "ws://127.0.0.1:5000/signaling"
			tc.change(&c)
			err := c.Validate()
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("Validate() = %v, want error mentioning %q", err, tc.want)
			}
		})
	}
}

func TestPublisherCodec(t *testing.T) {
	for _, tc := range []struct {
		codecs []string
		want   []string // publishers 0..len(want)-1
	}{
		{nil, []string{"VP8", "VP8"}},
		{[]string{"H264"}, []string{"H264", "H264"}},
		{[]string{"VP8", "VP9", "AV1"}, []string{"VP8", "VP9", "AV1", "VP8", "VP9"}},
	} {
		c := Config{VideoCodecs: tc.codecs}
		for i, want := range tc.want {
			if got := c.PublisherCodec(i); got != want {
				t.Errorf("codecs %v: publisher %d sends %s, want %s", tc.codecs, i, got, want)
			}
		}
	}
}
