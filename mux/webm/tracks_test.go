package webm

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"github.com/kiroku-sfu/kiroku/mux"
)

func TestAudioEntry(t *testing.T) {
	tests := []struct {
		channels  int
		preSkip   uint16
		wantDelay time.Duration
	}{
		{1, 0, 0},
		{2, 0, 0},
		{2, 312, 6500 * time.Microsecond},
	}
	for _, tc := range tests {
		e, err := audioEntry(&mux.TrackInfo{Codec: mux.Opus, Channels: tc.channels}, tc.preSkip)
		if err != nil {
			t.Fatal(err)
		}
		head := e.CodecPrivate
		if len(head) != 19 || !bytes.HasPrefix(head, []byte("OpusHead")) || head[8] != 1 ||
			int(head[9]) != tc.channels || binary.LittleEndian.Uint16(head[10:]) != tc.preSkip || head[18] != 0 {
			t.Errorf("%d ch, pre-skip %d: OpusHead %x", tc.channels, tc.preSkip, head)
		}
		if e.CodecDelay != uint64(tc.wantDelay) || e.SeekPreRoll != uint64(80*time.Millisecond) {
			t.Errorf("CodecDelay %d, SeekPreRoll %d", e.CodecDelay, e.SeekPreRoll)
		}
		if e.TrackNumber != audioTrack || e.Audio.SamplingFrequency != 48000 || e.Audio.Channels != uint64(tc.channels) {
			t.Errorf("entry %+v", e)
		}
	}
}

func TestVideoEntry(t *testing.T) {
	cfg := &mux.VideoConfig{Width: 640, Height: 360, Record: []byte{1, 2, 3, 4}, Profile: 2, BitDepth: 10, ChromaSubsampling: 1}
	tests := []struct {
		codec mux.Codec
		id    string
		priv  []byte
	}{
		{mux.VP8, "V_VP8", nil},
		{mux.VP9, "V_VP9", []byte{1, 1, 2, 3, 1, 10, 4, 1, 1}},
		{mux.AV1, "V_AV1", cfg.Record},
		{mux.H264, "V_MPEG4/ISO/AVC", cfg.Record},
	}
	for _, tc := range tests {
		e, err := videoEntry(&mux.TrackInfo{Codec: tc.codec}, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if e.CodecID != tc.id || !bytes.Equal(e.CodecPrivate, tc.priv) || e.TrackNumber != videoTrack ||
			e.Video.PixelWidth != 640 || e.Video.PixelHeight != 360 {
			t.Errorf("%s: %+v", tc.codec, e)
		}
	}
}
