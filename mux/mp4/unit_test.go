package mp4

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	gomp4 "github.com/abema/go-mp4"

	"github.com/kiroku-sfu/kiroku/mux"
)

func TestDurationToTicks(t *testing.T) {
	tests := []struct {
		d         time.Duration
		timescale uint32
		want      int64
	}{
		{0, 90000, 0},
		{time.Second, 90000, 90000},
		{33333333 * time.Nanosecond, 90000, 3000}, // 2999.99997 rounds up
		{20 * time.Millisecond, 48000, 960},
		{10417 * time.Nanosecond, 48000, 1},          // 0.500016 of a tick
		{10416 * time.Nanosecond, 48000, 0},          // 0.499968 of a tick
		{100 * time.Hour, 90000, 100 * 3600 * 90000}, // no overflow
	}
	for _, tt := range tests {
		if got := durationToTicks(tt.d, tt.timescale); got != tt.want {
			t.Errorf("durationToTicks(%v, %d) = %d, want %d", tt.d, tt.timescale, got, tt.want)
		}
	}
}

func TestRescaleAndTicksToDuration(t *testing.T) {
	tests := []struct {
		v        uint64
		from, to uint32
		want     uint64
	}{
		{90000, 90000, 1000, 1000},
		{27000, 90000, 1000, 300},
		{1, 48000, 1000, 0},
		{24, 48000, 1000, 1}, // 0.5 ms rounds up
		{math.MaxUint64 / 2, 90000, 90000, math.MaxUint64 / 2},
	}
	for _, tt := range tests {
		if got := rescale(tt.v, tt.from, tt.to); got != tt.want {
			t.Errorf("rescale(%d, %d, %d) = %d, want %d", tt.v, tt.from, tt.to, got, tt.want)
		}
	}
	if got := ticksToDuration(27000, 90000); got != 300*time.Millisecond {
		t.Errorf("ticksToDuration(27000, 90000) = %v", got)
	}
}

func TestOptions(t *testing.T) {
	tests := []struct {
		in      Options
		want    Options
		wantErr bool
	}{
		{Options{}, Options{FlushInterval: time.Second, ReservedHeaderBytes: DefaultReservedHeaderBytes}, false},
		{Options{FlushInterval: 2 * time.Second, ReservedHeaderBytes: 8192}, Options{FlushInterval: 2 * time.Second, ReservedHeaderBytes: 8192}, false},
		{Options{FlushInterval: 3 * time.Second}, Options{}, true},
		{Options{FlushInterval: -time.Second}, Options{}, true},
		{Options{ReservedHeaderBytes: 100}, Options{}, true},
	}
	for _, tt := range tests {
		got, err := tt.in.withDefaults()
		if (err != nil) != tt.wantErr || (err == nil && got != tt.want) {
			t.Errorf("%+v.withDefaults() = %+v, %v", tt.in, got, err)
		}
	}
}

func TestWriteFrameErrors(t *testing.T) {
	cfg := &mux.VideoConfig{Width: 320, Height: 240}
	key := mux.Frame{PTS: time.Second, Keyframe: true, Config: cfg, Data: []byte{1}}
	h264 := mux.TrackInfo{Codec: mux.H264, ClockRate: 90000}
	tests := []struct {
		name  string
		video *mux.TrackInfo
		prior []mux.Frame // video frames written first, successfully
		kind  mux.Kind
		frame mux.Frame
	}{
		{"first video frame not a keyframe", &synthVideo, nil, mux.Video, mux.Frame{Data: []byte{1}}},
		{"keyframe without configuration", &synthVideo, nil, mux.Video, mux.Frame{Keyframe: true, Data: []byte{1}}},
		{"H.264 configuration without record", &h264, nil, mux.Video, key},
		{"H.265 configuration without record", &mux.TrackInfo{Codec: mux.H265}, nil, mux.Video, key},
		{"AV1 configuration without record", &mux.TrackInfo{Codec: mux.AV1}, nil, mux.Video, key},
		{"PTS going back", &synthVideo, []mux.Frame{key}, mux.Video, mux.Frame{PTS: time.Second - 1, Data: []byte{1}}},
		{"negative PTS", &synthVideo, nil, mux.Video, mux.Frame{PTS: -1, Keyframe: true, Config: cfg, Data: []byte{1}}},
		{"empty frame", &synthVideo, []mux.Frame{key}, mux.Video, mux.Frame{PTS: 2 * time.Second}},
		{"no audio track", &synthVideo, nil, mux.Audio, mux.Frame{Keyframe: true, Data: []byte{1}}},
		{"zero-size configuration", &synthVideo, nil, mux.Video, mux.Frame{Keyframe: true, Config: &mux.VideoConfig{}, Data: []byte{1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := NewWriter(&memFile{}, tt.video, nil, Options{})
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range tt.prior {
				if err := w.WriteFrame(mux.Video, f); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.WriteFrame(tt.kind, tt.frame); err == nil {
				t.Errorf("WriteFrame accepted the frame")
			}
		})
	}
}

func TestNewWriterErrors(t *testing.T) {
	vp8, opus := synthVideo, synthAudio
	tests := []struct {
		name         string
		video, audio *mux.TrackInfo
		wantErr      error
	}{
		{"no track", nil, nil, nil},
		{"audio codec as video", &opus, nil, mux.ErrUnsupported},
		{"video codec as audio", nil, &vp8, mux.ErrUnsupported},
	}
	for _, tt := range tests {
		_, err := NewWriter(&memFile{}, tt.video, tt.audio, Options{})
		if err == nil || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
			t.Errorf("%s: NewWriter error %v, want %v", tt.name, err, tt.wantErr)
		}
	}
}

// TestCloseEnd checks the last sample's duration: until Close's end, or its
// predecessor's when end is unknown.
func TestCloseEnd(t *testing.T) {
	frames := synthFrames(rand.New(rand.NewPCG(5, 6)), 10) // video every 40 ms up to 360 ms, audio to 380 ms
	tests := []struct {
		end, want time.Duration
	}{
		{time.Second, time.Second},
		{0, 400 * time.Millisecond}, // video's last frame lasts 40 ms like the others
		{370 * time.Millisecond, 400 * time.Millisecond},
	}
	for _, tt := range tests {
		w, err := NewWriter(&memFile{}, &synthVideo, &synthAudio, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, tf := range frames {
			if err := w.WriteFrame(tf.kind, tf.frame); err != nil {
				t.Fatal(err)
			}
		}
		stats, err := w.Close(tt.end)
		if err != nil || stats.Duration != tt.want || stats.VideoFrames != 10 || stats.AudioFrames != 20 {
			t.Errorf("Close(%v) = %+v, %v; want duration %v", tt.end, stats, err, tt.want)
		}
		if _, err := w.Close(tt.end); !errors.Is(err, ErrClosed) {
			t.Errorf("second Close: %v, want ErrClosed", err)
		}
	}
}

// TestSampleTables checks the counts and times of a damaged sequence;
// TestSampleTablesEncoding checks its entries.
func TestSampleTables(t *testing.T) {
	var tab sampleTables
	sixSamples(&tab)
	tab.close()
	want := tableCounts{stts: 4, stss: 2, stsc: 1, samples: 6, chunks: 2, maxChunk: 1<<32 + 5}
	if tab.n != want || tab.firstStart != 3000 || tab.mediaDur != 17500 {
		t.Errorf("counts %+v, first %d, duration %d; want %+v, 3000, 17500", tab.n, tab.firstStart, tab.mediaDur, want)
	}
	if !useCo64(tab.n, false) {
		t.Errorf("an offset past 4 GiB needs co64")
	}
	if useCo64(tableCounts{maxChunk: 1<<32 - 1}, false) {
		t.Errorf("offsets below 4 GiB fit stco")
	}
}

func equalSlices[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestLastOpusDuration checks that, with end unknown, the last Opus packet
// lasts what its TOC says rather than the DTX pause before it.
func TestLastOpusDuration(t *testing.T) {
	w, err := NewWriter(&memFile{}, nil, &synthAudio, Options{})
	if err != nil {
		t.Fatal(err)
	}
	pkt := []byte{0xfc, 1, 2, 3} // 20 ms CELT, stereo, one frame
	for _, pts := range []time.Duration{0, 20 * time.Millisecond, 400 * time.Millisecond} {
		if err := w.WriteFrame(mux.Audio, mux.Frame{PTS: pts, Keyframe: true, Data: pkt}); err != nil {
			t.Fatal(err)
		}
	}
	stats, err := w.Close(0)
	if err != nil || stats.Duration != 420*time.Millisecond || stats.AudioFrames != 3 || stats.VideoFrames != 0 {
		t.Errorf("Close = %+v, %v; want 3 packets lasting until 420 ms", stats, err)
	}
}

// TestMoovDropsEmptyTrack finishes a file whose video track never got a
// frame: the moov holds only the audio track, and mvhd's next track ID
// stays above it.
func TestMoovDropsEmptyTrack(t *testing.T) {
	m := &memFile{}
	w, err := NewWriter(m, &synthVideo, &synthAudio, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		f := mux.Frame{PTS: time.Duration(i) * 20 * time.Millisecond, Keyframe: true, Data: []byte{0xfc, 1}}
		if err := w.WriteFrame(mux.Audio, f); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Close(0); err != nil {
		t.Fatal(err)
	}
	boxes, err := gomp4.ExtractBoxesWithPayload(bytes.NewReader(m.b), nil, []gomp4.BoxPath{
		{gomp4.BoxTypeMoov(), gomp4.BoxTypeMvhd()},
		{gomp4.BoxTypeMoov(), gomp4.BoxTypeTrak(), gomp4.BoxTypeTkhd()},
	})
	if err != nil || len(boxes) != 2 {
		t.Fatalf("moov: %d boxes, %v; want mvhd and one tkhd", len(boxes), err)
	}
	mvhd, tkhd := boxes[0].Payload.(*gomp4.Mvhd), boxes[1].Payload.(*gomp4.Tkhd)
	if tkhd.TrackID != 2 || mvhd.NextTrackID != 3 {
		t.Errorf("track ID %d, next track ID %d; want 2 and 3", tkhd.TrackID, mvhd.NextTrackID)
	}
}

func TestTrunRoundTrip(t *testing.T) {
	samples := []pendingSample{{start: 0, size: 10, sync: true}, {start: 3000, size: 20}, {start: 6100, size: 30}}
	payload := appendTrun(nil, samples, 2900)
	tr, err := decodeTrun(payload)
	if err != nil || tr.count != 3 || tr.flags != trunWritten {
		t.Fatalf("decodeTrun = %+v, %v", tr, err)
	}
	tf := traf{tfhd: &tfhdFields{}}
	var store []trafSample
	if err := tf.addRun(payload, &store); err != nil {
		t.Fatal(err)
	}
	want := []trafSample{{3000, 10, true}, {3100, 20, false}, {2900, 30, false}}
	if got := tf.runs[0].samples; !equalSlices(got, want) || tf.runs[0].bytes != 60 {
		t.Errorf("samples %+v (%d bytes), want %+v", got, tf.runs[0].bytes, want)
	}
}

func TestDecodeTrunRejects(t *testing.T) {
	valid := appendTrun(nil, []pendingSample{{size: 1, sync: true}}, 1)
	tests := []struct {
		name    string
		payload []byte
	}{
		{"empty", nil},
		{"header only", valid[:8]},
		{"count beyond payload", append(bytes.Clone(valid[:4]), 0x10, 0, 0, 0, 0, 0, 0, 0)},
		{"no sample sizes", append([]byte{0, 0, 0x01, 0x01}, valid[4:]...)},
		{"no data offset", append([]byte{0, 0, 0x07, 0x00}, valid[4:]...)},
		{"negative data offset", append(append(bytes.Clone(valid[:8]), 0xff, 0xff, 0xff, 0xf0), valid[12:]...)},
		{"truncated entry", valid[:len(valid)-1]},
	}
	for _, tt := range tests {
		if _, err := decodeTrun(tt.payload); err == nil {
			t.Errorf("%s: decodeTrun accepted % x", tt.name, tt.payload)
		}
	}
}
