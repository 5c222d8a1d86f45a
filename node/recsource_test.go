package node

import (
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"github.com/kiroku-sfu/kiroku/archive"
	"github.com/kiroku-sfu/kiroku/mux"
	"github.com/kiroku-sfu/kiroku/sfu"
)

func TestTrackOf(t *testing.T) {
	for _, tc := range []struct {
		mime string
		want mux.Codec
		ok   bool
	}{
		{"video/VP8", mux.VP8, true},
		{"video/vp9", mux.VP9, true},
		{"video/AV1", mux.AV1, true},
		{"video/H264", mux.H264, true},
		{"video/H265", mux.H265, true},
		{"audio/opus", mux.Opus, true},
		{"audio/PCMU", "", false},
		{"", "", false},
	} {
		got, err := trackOf(sfu.TrackInfo{TrackID: "t", MimeType: tc.mime, ClockRate: 90000, Channels: 2, SDPFmtpLine: "x=1"})
		if (err == nil) != tc.ok || got.Codec != tc.want {
			t.Errorf("trackOf(%q) = %+v, %v; want codec %q ok %t", tc.mime, got, err, tc.want, tc.ok)
		}
		if tc.ok && (got.ClockRate != 90000 || got.Channels != 2 || got.Fmtp != "x=1") {
			t.Errorf("trackOf(%q) = %+v: clock, channels or fmtp lost", tc.mime, got)
		}
	}
}

func TestRecordedConnection(t *testing.T) {
	for _, tc := range []struct {
		name         string
		info         sfu.ConnectionInfo
		video, audio mux.Codec
	}{
		{"both", sfu.ConnectionInfo{Audio: true, Video: true, VideoCodec: sfu.H264}, mux.H264, mux.Opus},
		{"audio only", sfu.ConnectionInfo{Audio: true}, "", mux.Opus},
		{"video only", sfu.ConnectionInfo{Video: true, VideoCodec: sfu.AV1}, mux.AV1, ""},
	} {
		tc.info.ConnectionID, tc.info.ClientID, tc.info.BundleID, tc.info.Role = "C1", "cl", "bu", sfu.SendRecv
		c := recordedConnection(tc.info)
		if c.ConnectionID != "C1" || c.ClientID != "cl" || c.BundleID != "bu" || c.Role != "sendrecv" || c.RecordingBlock {
			t.Errorf("%s: ids %+v", tc.name, c)
		}
		if got := codecOf(c.Video); got != tc.video || (c.Video != nil && c.Video.ClockRate != 90000) {
			t.Errorf("%s: video %+v, want %q", tc.name, c.Video, tc.video)
		}
		if got := codecOf(c.Audio); got != tc.audio || (c.Audio != nil && (c.Audio.ClockRate != 48000 || c.Audio.Channels != 2)) {
			t.Errorf("%s: audio %+v, want %q", tc.name, c.Audio, tc.audio)
		}
	}
}

// sinkLog is an archive.Sink that records what reaches it.
type sinkLog struct {
	kinds  []mux.Kind
	seqs   []uint16
	srs    int
	closed int
}

func (s *sinkLog) WriteRTP(k mux.Kind, p *rtp.Packet, _ time.Time) {
	s.kinds, s.seqs = append(s.kinds, k), append(s.seqs, p.SequenceNumber)
}
func (s *sinkLog) WriteSenderReport(mux.Kind, *rtcp.SenderReport, time.Time) { s.srs++ }
func (s *sinkLog) PublisherClosed()                                          { s.closed++ }

// TestRecSink checks which packets reach the recorder: audio always,
// video only in the negotiated codec and from one SSRC per track, a
// re-added track continuing.
func TestRecSink(t *testing.T) {
	audio := sfu.TrackInfo{TrackID: "a", Kind: sfu.KindAudio, MimeType: "audio/opus", SSRC: 1}
	video := sfu.TrackInfo{TrackID: "v", Kind: sfu.KindVideo, MimeType: "video/VP8", SSRC: 2}
	otherLayer := video
	otherLayer.SSRC = 3
	wrongCodec := sfu.TrackInfo{TrackID: "h", Kind: sfu.KindVideo, MimeType: "video/H264", SSRC: 4}
	readded := sfu.TrackInfo{TrackID: "v2", Kind: sfu.KindVideo, MimeType: "video/VP8", SSRC: 5}
	log := &sinkLog{}
	s := &recSink{sink: log, video: mux.VP8}
	for i, tr := range []sfu.TrackInfo{audio, wrongCodec, video, otherLayer, audio, readded, video, wrongCodec} {
		s.WriteRTP(tr, &rtp.Packet{Header: rtp.Header{SequenceNumber: uint16(i)}}, time.Time{})
	}
	s.WriteSenderReport(video, &rtcp.SenderReport{}, time.Time{})
	s.PublisherClosed()
	wantSeqs := []uint16{0, 2, 4, 5, 6}
	wantKinds := []mux.Kind{mux.Audio, mux.Video, mux.Audio, mux.Video, mux.Video}
	if len(log.seqs) != len(wantSeqs) {
		t.Fatalf("delivered %v, want %v", log.seqs, wantSeqs)
	}
	for i := range wantSeqs {
		if log.seqs[i] != wantSeqs[i] || log.kinds[i] != wantKinds[i] {
			t.Errorf("packet %d: seq %d kind %v, want %d %v", i, log.seqs[i], log.kinds[i], wantSeqs[i], wantKinds[i])
		}
	}
	if log.srs != 1 || log.closed != 1 {
		t.Errorf("sender reports %d, closed %d; want 1 and 1", log.srs, log.closed)
	}
	if id := s.videoID.Load(); id == nil || *id != "v" {
		t.Errorf("video track for keyframe requests = %v, want v", id)
	}
}

func codecOf(t *archive.Track) mux.Codec {
	if t == nil {
		return ""
	}
	return t.Codec
}

// layerLog is a sinkLog that also counts simulcast layer changes.
type layerLog struct {
	sinkLog
	changes []int // index in seqs of the packet after each change
}

func (s *layerLog) VideoLayerChanged(time.Time) { s.changes = append(s.changes, len(s.seqs)) }

// TestRecSinkLayerChanges: a change of the simulcast layer the SFU names
// reaches the recorder just before the new layer's first packet; the
// first layer is no change, nor is audio.
func TestRecSinkLayerChanges(t *testing.T) {
	audio := sfu.TrackInfo{TrackID: "a", Kind: sfu.KindAudio, MimeType: "audio/opus", SSRC: 1}
	video := sfu.TrackInfo{TrackID: "v", Kind: sfu.KindVideo, MimeType: "video/VP8", SSRC: 2}
	log := &layerLog{}
	s := &recSink{sink: log, video: mux.VP8}
	for i, rid := range []string{"r2", "r2", "", "r1", "r1", "", "r2"} {
		tr := video
		if rid == "" {
			tr = audio
		}
		tr.RID = rid
		s.WriteRTP(tr, &rtp.Packet{Header: rtp.Header{SequenceNumber: uint16(i)}}, time.Time{})
	}
	if len(log.changes) != 2 || log.changes[0] != 3 || log.changes[1] != 6 {
		t.Fatalf("changes before packets %v, want [3 6]", log.changes)
	}
}
