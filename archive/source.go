package archive

import (
	"encoding/json"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"github.com/kiroku-sfu/kiroku/mux"
)

// Track describes one published track of a recorded connection.
type Track struct {
	Codec     mux.Codec
	ClockRate uint32
	Channels  int    // audio channels; 0 for video
	Fmtp      string // the SDP fmtp line's parameters
}

func (t *Track) info() *mux.TrackInfo {
	if t == nil {
		return nil
	}
	return &mux.TrackInfo{Codec: t.Codec, ClockRate: t.ClockRate, Channels: t.Channels}
}

// Connection identifies a publisher connection and its media. A
// simulcast publisher is given with its highest-quality layer only.
type Connection struct {
	ClientID       string
	BundleID       string
	ConnectionID   string
	Role           string          // "sendrecv" or "sendonly", for webhooks
	EventMetadata  json.RawMessage // the auth webhook's event_metadata
	RecordingBlock bool            // the auth webhook's recording_block
	Video, Audio   *Track          // nil when the connection sends none
	VideoBitRate   int             // kbit/s from connect, 0 when unknown
}

// Sink receives one connection's media. A Recorder implements it; the
// caller delivers a connection's packets one call at a time (from one
// goroutine, or serialised by a lock), and the calls must not block: a
// Recorder only queues what it is given for its own goroutine.
type Sink interface {
	WriteRTP(k mux.Kind, p *rtp.Packet, arrival time.Time)
	WriteSenderReport(k mux.Kind, sr *rtcp.SenderReport, arrival time.Time)
	// PublisherClosed says the connection left; it is called once, last.
	PublisherClosed()
}

// LayerSink is a Sink that counts simulcast layer changes: a Recorder
// implements it. The caller calls VideoLayerChanged, from the goroutine
// that delivers the packets, before the first video packet of another
// layer of a simulcast publisher's video (which reaches the sink as one
// stream, continuous in sequence numbers and timestamps, starting with
// a keyframe at each change).
type LayerSink interface {
	Sink
	VideoLayerChanged(arrival time.Time)
}

// FmtpSink is a Sink that learns the video track's SDP format parameters
// once the track exists (a connection is announced before its tracks): a
// Recorder implements it. The caller calls VideoFmtp, from the goroutine
// that delivers the packets, before the first packet of a video track;
// H.264/H.265 parameter sets given there (sprop-parameter-sets,
// sprop-vps/sps/pps) seed the recorder's depacketizer, so a publisher that
// sends them only in its SDP is recorded whole.
type FmtpSink interface {
	Sink
	VideoFmtp(fmtp string, arrival time.Time)
}

// Subscription is a Sink attached to a connection's media.
type Subscription interface {
	// RequestKeyframe asks the publisher for a video keyframe; the
	// forwarding side may merge requests.
	RequestKeyframe()
	// Dropped counts events the forwarding side dropped because the sink
	// fell behind.
	Dropped() uint64
	// Close detaches the sink; PublisherClosed follows.
	Close()
}

// Source is a connection whose media a recorder can subscribe to.
type Source interface {
	Subscribe(s Sink) (Subscription, error)
}

// Notifier sends webhooks. Event sends an event webhook about a
// connection; Session sends a session webhook about a channel's session.
// data is the webhook's "data" object. Neither may block on the network.
type Notifier interface {
	Event(typ string, c Connection, channelID, sessionID string, data any)
	Session(typ string, channelID, sessionID string, data any)
}

// ChannelNotifier sends a signaling notify (recording.started,
// recording.stopped) to every connection of a channel.
type ChannelNotifier interface {
	NotifyChannel(channelID, eventType string, data map[string]any)
}

// Clock is the time source: wall time and timers.
type Clock interface {
	Now() time.Time
	// AfterFunc runs f in its own goroutine after d; the returned func
	// stops it and reports whether it stopped f from running.
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

// SystemClock is the real Clock.
type SystemClock struct{}

// Now returns the current time.
func (SystemClock) Now() time.Time { return time.Now() }

// AfterFunc wraps time.AfterFunc.
func (SystemClock) AfterFunc(d time.Duration, f func()) func() bool {
	return time.AfterFunc(d, f).Stop
}
