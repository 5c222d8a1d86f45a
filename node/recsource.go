package node

import (
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"github.com/kiroku-sfu/kiroku/archive"
	"github.com/kiroku-sfu/kiroku/mux"
	"github.com/kiroku-sfu/kiroku/sfu"
	"github.com/kiroku-sfu/kiroku/signaling"
)

// The adapters below join the SFU's subscriber seam to archive's.
var (
	_ archive.Source       = connSource{}
	_ archive.Subscription = (*recSubscription)(nil)
	_ sfu.QueueingSink     = (*recSink)(nil)
)

// subscriber is what connSource needs from *sfu.SFU.
type subscriber interface {
	Subscribe(connectionID string, sink sfu.Sink) (*sfu.Subscription, error)
	RequestKeyFrame(channelID, connectionID string) error
}

// connSource is one publisher connection as an archive.Source.
type connSource struct {
	core    subscriber
	channel string    // channel_id
	id      string    // connection_id
	video   mux.Codec // the codec negotiated at connect; other video is not recorded
}

// Subscribe attaches s to the connection's media in the SFU.
func (c connSource) Subscribe(s archive.Sink) (archive.Subscription, error) {
	sink := &recSink{sink: s, video: c.video}
	sub, err := c.core.Subscribe(c.id, sink)
	if err != nil {
		return nil, fmt.Errorf("record %s: %w", c.id, err)
	}
	anyVideo := func() { _ = c.core.RequestKeyFrame(c.channel, c.id) } // gone: no keyframe needed
	return &recSubscription{sub: sub, sink: sink, anyVideo: anyVideo}, nil
}

// recSink passes one connection's packets to a recorder. Video must be
// in the negotiated codec; a simulcast publisher's video comes as one
// track, its highest layer (the SFU switches and renumbers the layers).
// Its methods are called one at a time.
type recSink struct {
	sink      archive.Sink
	video     mux.Codec
	videoID   atomic.Pointer[string] // the recorded video track's id
	videoSSRC uint32
	videoRID  string // the simulcast layer the recorded video comes from
	ignored   string // a video track in another codec, not recorded
}

// WriteRTP implements sfu.Sink.
func (r *recSink) WriteRTP(t sfu.TrackInfo, p *rtp.Packet, arrival time.Time) {
	k := muxKind(t.Kind)
	if k == mux.Video {
		if !r.acceptVideo(t, arrival) {
			return
		}
		r.noteLayer(t.RID, arrival)
	}
	r.sink.WriteRTP(k, p, arrival)
}

// acceptVideo remembers the first video track and keeps a track that is
// re-added under a new SSRC in the same file. A new track's SDP format
// parameters go to the recorder first (H.264/H.265 parameter sets a
// publisher may send only there).
func (r *recSink) acceptVideo(t sfu.TrackInfo, arrival time.Time) bool {
	if t.TrackID == r.ignored {
		return false
	}
	if id := r.videoID.Load(); id == nil || *id != t.TrackID {
		if tr, err := trackOf(t); err != nil || tr.Codec != r.video {
			r.ignored = t.TrackID
			return false
		}
		id := t.TrackID // not &t.TrackID: t would move to the heap on every call
		r.videoID.Store(&id)
		r.videoSSRC = t.SSRC
		if fs, ok := r.sink.(archive.FmtpSink); ok {
			fs.VideoFmtp(t.SDPFmtpLine, arrival)
		}
	}
	return r.videoSSRC == t.SSRC
}

// noteLayer tells the recorder when a simulcast publisher's video moves
// to another layer (the SFU names it in TrackInfo.RID).
func (r *recSink) noteLayer(rid string, arrival time.Time) {
	if rid == r.videoRID {
		return
	}
	if ls, ok := r.sink.(archive.LayerSink); ok && r.videoRID != "" && rid != "" {
		ls.VideoLayerChanged(arrival)
	}
	r.videoRID = rid
}

// WriteSenderReport implements sfu.Sink.
func (r *recSink) WriteSenderReport(t sfu.TrackInfo, sr *rtcp.SenderReport, arrival time.Time) {
	r.sink.WriteSenderReport(muxKind(t.Kind), sr, arrival)
}

// PublisherClosed implements sfu.Sink.
func (r *recSink) PublisherClosed() { r.sink.PublisherClosed() }

// QueuesWithoutBlocking implements sfu.QueueingSink: archive's recorder
// only queues what it is given (archive.Sink), so the SFU calls recSink
// from the tracks' readers directly.
func (r *recSink) QueuesWithoutBlocking() {}

// recSubscription is an sfu.Subscription as archive sees it.
type recSubscription struct {
	sub      *sfu.Subscription
	sink     *recSink
	anyVideo func() // asks every video track of the connection
}

// RequestKeyframe asks for a keyframe on the recorded video track, or on
// every video track of the connection before its first video packet.
// The SFU merges the requests with viewers' into one PLI per interval.
func (s *recSubscription) RequestKeyframe() {
	if id := s.sink.videoID.Load(); id != nil {
		_ = s.sub.RequestKeyFrame(*id) // a track that just ended needs none
		return
	}
	s.anyVideo()
}

// Dropped implements archive.Subscription.
func (s *recSubscription) Dropped() uint64 { return s.sub.Dropped() }

// Close implements archive.Subscription.
func (s *recSubscription) Close() { _ = s.sub.Close() }

func muxKind(k sfu.Kind) mux.Kind {
	if k == sfu.KindAudio {
		return mux.Audio
	}
	return mux.Video
}

// recordedConnection describes a publisher for archive from what it
// negotiated at connect: the video codec it chose and Opus audio.
func recordedConnection(ci sfu.ConnectionInfo) archive.Connection {
	ex := signaling.ExtrasOf(ci)
	c := archive.Connection{ClientID: ci.ClientID, BundleID: ci.BundleID, ConnectionID: ci.ConnectionID,
		Role: string(ci.Role), EventMetadata: ex.EventMetadata, RecordingBlock: ex.RecordingBlock,
		VideoBitRate: ex.Media.VideoBitRate}
	if ci.Video {
		c.Video = &archive.Track{Codec: mux.Codec(ci.VideoCodec), ClockRate: 90000}
	}
	if ci.Audio {
		c.Audio = &archive.Track{Codec: mux.Opus, ClockRate: 48000, Channels: 2}
	}
	return c
}

// trackOf converts a track the SFU reports to archive's description.
func trackOf(t sfu.TrackInfo) (archive.Track, error) {
	name := strings.ToUpper(strings.TrimPrefix(strings.TrimPrefix(t.MimeType, "video/"), "audio/"))
	for _, c := range []mux.Codec{mux.VP8, mux.VP9, mux.AV1, mux.H264, mux.H265, mux.Opus} {
		if strings.EqualFold(name, string(c)) {
			return archive.Track{Codec: c, ClockRate: t.ClockRate, Channels: int(t.Channels), Fmtp: t.SDPFmtpLine}, nil
		}
	}
	return archive.Track{}, fmt.Errorf("track %s: codec %q cannot be recorded", t.TrackID, t.MimeType)
}
