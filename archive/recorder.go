package archive

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"github.com/kiroku-sfu/kiroku/mux"
	"github.com/kiroku-sfu/kiroku/mux/remux"
)

// dropLogInterval is the least time between two logs about drops; the
// total is in the stats and the final log line.
const dropLogInterval = 10 * time.Second

// DefaultQueueSize is a recorder's hand-off capacity in packets: about
// one and a half seconds of a 2.5 Mbit/s publisher (about 300 packets a
// second), which is 40 KB of events per recorder.
const DefaultQueueSize = 512

// event is one hand-off from the caller to the recorder goroutine.
type event struct {
	kind      mux.Kind
	pkt       *rtp.Packet
	sr        *rtcp.SenderReport
	arrival   time.Time
	dropped   int       // events dropped just before this one
	dropSince time.Time // arrival of the first of them
	layer     bool      // a simulcast layer change (no packet, no report)
	fmtp      string    // the video track's SDP format parameters (no packet, no report)
}

// dropSpan is a stretch of media the recorder dropped because it fell
// behind, in arrival (wall) time.
type dropSpan struct {
	from, to time.Time
	events   int
}

// Recorder records one connection of a recording: it subscribes to the
// connection's media, hands packets to its own goroutine through a
// bounded queue, writes them with one muxer per output (single, split)
// and, when stopped or when the publisher leaves, delivers the files.
type Recorder struct {
	plan  *plan
	conn  Connection
	media Media
	sub   Subscription

	in       chan event
	hurry    chan struct{} // the queue is filling: write before the pace says
	hurryAt  int           // queue length that signals hurry
	quit     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
	dropped  atomic.Int64

	// Producer side: only the delivering goroutine touches these.
	pendingDrops int
	dropSince    time.Time

	// Recorder goroutine state.
	kf          keyframes
	epoch       time.Time
	outputs     []*output
	drops       []dropSpan
	late        [2]seqTracker
	layerMoves  int       // simulcast layer changes so far
	started     time.Time // archive.started was sent
	lastDropLog time.Time

	result connResult // valid after done is closed
}

// connResult is what a connection contributes to the report.
type connResult struct {
	archive *ReportArchive
	failed  *FailedArchive
}

// startRecorder starts recording c from src. A connection whose codecs
// the format cannot hold, or that cannot be subscribed to, fails at once
// with archive.failed; the returned Recorder is then already done.
func startRecorder(p *plan, c Connection, src Source) *Recorder {
	r := &Recorder{plan: p, conn: c, media: mediaOf(c), in: make(chan event, p.queue),
		hurry: make(chan struct{}, 1), hurryAt: max(1, p.queue/4),
		quit: make(chan struct{}), done: make(chan struct{})}
	r.kf.send, r.kf.counted = r.requestKeyframe, p.counters.keyframeAsked
	if p.opts.Format == FormatMP4 {
		r.kf.periodic = p.cfg.MP4PLIInterval
	}
	if err := r.setup(src); err != nil {
		r.failNow(err)
		return r
	}
	r.notifyStarted()
	go r.run()
	return r
}

// setup checks the codecs, builds the outputs and subscribes.
func (r *Recorder) setup(src Source) error {
	if r.conn.Video == nil && r.conn.Audio == nil {
		return fmt.Errorf("%w: connection sends no media", mux.ErrUnsupported)
	}
	for _, t := range []*Track{r.conn.Video, r.conn.Audio} {
		if t != nil && !remux.Supports(remux.Format(r.plan.opts.Format), t.Codec) {
			return fmt.Errorf("%s cannot go into %s: %w", t.Codec, r.plan.opts.Format, mux.ErrUnsupported)
		}
	}
	for _, split := range []bool{false, true} {
		if (split && !r.plan.out.Split) || (!split && !r.plan.out.Single) {
			continue
		}
		o, err := newOutput(r, split)
		if err != nil {
			return err
		}
		r.outputs = append(r.outputs, o)
	}
	sub, err := src.Subscribe(r)
	if err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	r.sub = sub
	return nil
}

// WriteRTP hands a packet to the recorder without waiting; when the queue
// is full the packet is dropped and counted, and the recorder records a
// gap and asks for a keyframe once it catches up.
func (r *Recorder) WriteRTP(k mux.Kind, p *rtp.Packet, arrival time.Time) {
	r.offer(event{kind: k, pkt: p, arrival: arrival})
}

// WriteSenderReport hands a sender report to the recorder without waiting.
func (r *Recorder) WriteSenderReport(k mux.Kind, sr *rtcp.SenderReport, arrival time.Time) {
	r.offer(event{kind: k, sr: sr, arrival: arrival})
}

// VideoLayerChanged implements LayerSink: the video's next packets come
// from another simulcast layer. The change is counted in the stats of the
// file being written when it reaches the recorder goroutine.
func (r *Recorder) VideoLayerChanged(arrival time.Time) {
	r.offer(event{kind: mux.Video, layer: true, arrival: arrival})
}

// VideoFmtp implements FmtpSink: the parameter sets in fmtp seed the
// video depacketizers when the event reaches the recorder goroutine.
func (r *Recorder) VideoFmtp(fmtp string, arrival time.Time) {
	if fmtp != "" {
		r.offer(event{kind: mux.Video, fmtp: fmtp, arrival: arrival})
	}
}

// PublisherClosed finishes the recording of this connection now.
func (r *Recorder) PublisherClosed() { r.Stop() }

// Stop asks the recorder to finish; it does not wait (see Done).
func (r *Recorder) Stop() { r.stopOnce.Do(func() { close(r.quit) }) }

// Done is closed when the recorder has delivered its files.
func (r *Recorder) Done() <-chan struct{} { return r.done }

// Dropped counts packets dropped at the hand-off.
func (r *Recorder) Dropped() int64 { return r.dropped.Load() }

func (r *Recorder) offer(ev event) {
	ev.dropped, ev.dropSince = r.pendingDrops, r.dropSince
	select {
	case <-r.quit:
		return
	default:
	}
	select {
	case r.in <- ev:
		r.pendingDrops = 0
		if len(r.in) >= r.hurryAt {
			select {
			case r.hurry <- struct{}{}:
			default:
			}
		}
	default:
		if r.pendingDrops == 0 {
			r.dropSince = ev.arrival
		}
		r.pendingDrops++
		r.dropped.Add(1)
		r.plan.counters.queueDropped.Add(1)
	}
}

// DefaultWritePace is how often at most a recorder goroutine wakes up
// to write what was queued meanwhile. Waking for every packet cost a
// thread wake-up per packet or two on the receive path; at this pace
// every recorder of the process wakes at the same instants, together.
// It is far shorter than design's 2 s flush bound. A recorder whose
// queue is a quarter full writes at once: a keyframe of a high-bitrate
// publisher does not wait for the pace, nor overflow the queue.
const DefaultWritePace = 40 * time.Millisecond

// run is the recorder goroutine: it writes what arrives, everything
// queued at once and at most once per pace unless hurried, until
// stopped; then writes what is queued and delivers the files.
func (r *Recorder) run() {
	defer close(r.done)
	pace := time.NewTimer(time.Hour)
	pace.Stop()
	for {
		select {
		case ev := <-r.in:
			r.handle(ev)
			r.drain()
			if r.rest(pace) {
				continue
			}
		case <-r.quit:
		}
		r.sub.Close()
		r.drain()
		r.trailingDrops()
		r.finish()
		return
	}
}

// rest waits for the next multiple of the pace on the clock, the same
// instant for every recorder, or for a hurry; it reports false when the
// recorder was stopped meanwhile.
func (r *Recorder) rest(pace *time.Timer) bool {
	now, every := time.Now(), r.plan.pace
	pace.Reset(now.Truncate(every).Add(every).Sub(now))
	select {
	case <-pace.C:
		return true
	case <-r.hurry:
		pace.Stop()
		return true
	case <-r.quit:
		pace.Stop()
		return false
	}
}

func (r *Recorder) drain() {
	for {
		select {
		case ev := <-r.in:
			r.handle(ev)
		default:
			return
		}
	}
}

// trailingDrops records drops that no later event reported: the media
// ended while the recorder was behind.
func (r *Recorder) trailingDrops() {
	n := int(r.dropped.Load())
	for _, d := range r.drops {
		n -= d.events
	}
	if n > 0 {
		r.drops = append(r.drops, dropSpan{from: r.kf.now, to: r.kf.now, events: n})
	}
}

func (r *Recorder) handle(ev event) {
	if r.epoch.IsZero() {
		r.epoch = ev.arrival
	}
	r.kf.tick(ev.arrival)
	if ev.dropped > 0 {
		r.drops = append(r.drops, dropSpan{from: ev.dropSince, to: ev.arrival, events: ev.dropped})
		if r.lastDropLog.IsZero() || ev.arrival.Sub(r.lastDropLog) >= dropLogInterval {
			r.lastDropLog = ev.arrival
			r.plan.logger.Warn("recorder fell behind; media dropped", "connection_id", r.conn.ConnectionID,
				"dropped", ev.dropped, "span", ev.arrival.Sub(ev.dropSince), "dropped_total", r.dropped.Load())
		}
		r.kf.want()
	}
	if ev.layer {
		r.layerMoves++
		return
	}
	if ev.fmtp != "" {
		for _, o := range r.outputs {
			o.seedVideo(ev.fmtp)
		}
		return
	}
	if ev.pkt != nil {
		r.late[kindIndex(ev.kind)].see(ev.pkt.SequenceNumber)
	}
	at := ev.arrival.Sub(r.epoch)
	for _, o := range r.outputs {
		o.write(ev, at)
	}
}

func (r *Recorder) requestKeyframe() {
	if r.sub != nil && r.conn.Video != nil {
		r.sub.RequestKeyframe()
	}
}

// lateCount is the number of late packets so far, both tracks.
func (r *Recorder) lateCount() int { return r.late[0].late + r.late[1].late }

func kindIndex(k mux.Kind) int {
	if k == mux.Audio {
		return 1
	}
	return 0
}

// seqTracker counts packets that arrived after a later one: holes that
// were filled by retransmission or reordering.
type seqTracker struct {
	highest uint16
	started bool
	late    int
}

func (s *seqTracker) see(seq uint16) {
	switch {
	case !s.started:
		s.highest, s.started = seq, true
	case int16(seq-s.highest) < 0:
		s.late++
	default:
		s.highest = seq
	}
}
