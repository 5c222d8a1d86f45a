package sfu

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// Kind is a track's media kind.
type Kind string

// Media kinds.
const (
	KindAudio Kind = "audio"
	KindVideo Kind = "video"
)

// TrackInfo describes one published track to a sink.
type TrackInfo struct {
	ConnectionID string // the publisher's connection_id (the msid stream id)
	TrackID      string // unique within the publisher connection
	Kind         Kind
	MimeType     string // e.g. "video/VP8", "audio/opus"
	ClockRate    uint32
	Channels     uint16
	SDPFmtpLine  string
	PayloadType  uint8
	SSRC         uint32
	// RID is, for a simulcast publisher's video, the layer ("r0", "r1",
	// "r2") the packet or report comes from; empty otherwise. The video
	// reaches sinks as one track (one SSRC, sequence numbers and
	// timestamps running on) that follows one layer at a time; a sink
	// learns of a layer change by RID changing. Every change happens at
	// a keyframe of the new layer, after the previous layer's last whole
	// frame, with sequence numbers contiguous and timestamps strictly
	// increasing; the new layer may have another picture size.
	RID string
}

// Sink receives one publisher connection's media, e.g. a recorder.
// Methods are called one at a time (from one goroutine per subscription,
// or for a QueueingSink from the tracks' readers), in arrival order per
// track. Packets and reports are shared with other consumers and
// must not be modified; the sink may keep them. A sink must not call its
// Subscription's Close from these methods.
type Sink interface {
	// WriteRTP delivers one RTP packet of a track and when it arrived.
	WriteRTP(t TrackInfo, p *rtp.Packet, arrival time.Time)
	// WriteSenderReport delivers an RTCP sender report for a track.
	WriteSenderReport(t TrackInfo, sr *rtcp.SenderReport, arrival time.Time)
	// PublisherClosed is called once, last, when the publisher left or
	// the subscription was closed.
	PublisherClosed()
}

// QueueingSink is a Sink whose WriteRTP and WriteSenderReport never
// block: they only queue the event for a goroutine of the sink's own (as
// archive's recorder does). Its subscription calls them directly from the
// track's reader, one call at a time, instead of through a queue and a
// delivery goroutine of its own: one goroutine hand-off per packet fewer.
type QueueingSink interface {
	Sink
	// QueuesWithoutBlocking marks the sink; it is never called.
	QueuesWithoutBlocking()
}

// sinkEvent is one hand-off from a track's reader to a subscription.
type sinkEvent struct {
	info    *TrackInfo // the track's, never modified
	rtp     *rtp.Packet
	sr      *rtcp.SenderReport
	arrival time.Time
}

// Subscription is a sink attached to a publisher connection. It is
// returned by [SFU.Subscribe].
type Subscription struct {
	sink  Sink
	owner *Connection
	queue chan sinkEvent // nil for a QueueingSink
	done  chan struct{}  // closed when the last callback returned

	// For a QueueingSink, mu serialises the callbacks and closed ends
	// them.
	mu     sync.Mutex
	closed bool

	closeOnce sync.Once
	stop      chan struct{}
	dropped   atomic.Uint64
}

func newSubscription(owner *Connection, sink Sink, size int) *Subscription {
	s := &Subscription{sink: sink, owner: owner, done: make(chan struct{}), stop: make(chan struct{})}
	if _, ok := sink.(QueueingSink); ok {
		return s
	}
	s.queue = make(chan sinkEvent, size)
	go s.deliver()
	return s
}

// offer hands an event to the delivery goroutine without waiting; a full
// queue drops the event and counts it. A QueueingSink gets it at once.
func (s *Subscription) offer(ev sinkEvent) {
	if s.queue == nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		if !s.closed {
			s.write(ev)
		}
		return
	}
	select {
	case s.queue <- ev:
	default:
		s.dropped.Add(1)
		s.owner.sfu.counters.sinkDropped.Add(1)
	}
}

func (s *Subscription) deliver() {
	defer close(s.done)
	defer s.sink.PublisherClosed()
	for {
		select {
		case <-s.stop:
			return
		case ev := <-s.queue:
			s.write(ev)
		}
	}
}

// write passes one event to the sink.
func (s *Subscription) write(ev sinkEvent) {
	info := *ev.info
	if ev.rtp != nil {
		s.sink.WriteRTP(info, ev.rtp, ev.arrival)
	} else {
		s.sink.WriteSenderReport(info, ev.sr, ev.arrival)
	}
}

// Dropped returns how many packets and reports were dropped because the
// sink did not keep up.
func (s *Subscription) Dropped() uint64 { return s.dropped.Load() }

// RequestKeyFrame asks the publisher for a keyframe on the track; requests
// are merged with viewers' into at most one PLI per interval.
func (s *Subscription) RequestKeyFrame(trackID string) error {
	t := s.owner.track(trackID)
	if t == nil {
		return fmt.Errorf("request keyframe for track %q of %s: %w", trackID, s.owner.info.ConnectionID, ErrNotFound)
	}
	t.requestKeyframe()
	return nil
}

// Close detaches the sink and waits until its last callback
// (PublisherClosed) returned. It is idempotent.
func (s *Subscription) Close() error {
	s.closeOnce.Do(func() {
		s.owner.removeSubscription(s)
		close(s.stop)
		if s.queue == nil {
			s.mu.Lock()
			s.closed = true
			s.mu.Unlock()
			s.sink.PublisherClosed()
			close(s.done)
		}
	})
	<-s.done
	return nil
}
