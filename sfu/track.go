package sfu

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// Fan-out halves: from splitFanoutAt viewers on, new viewers of a track
// are bound to a second local track, written by a goroutine of its own
// while the read loop writes the first. On two or more cores the last
// viewer of a big channel then gets each packet about twice as soon (a
// send costs about 5 µs, so 100 viewers are half a millisecond of sends);
// below it, handing a packet over would cost more than it saves.
const (
	splitFanoutAt = 16
	handoffQueue  = 256 // packets queued for the second half's writer
)

// From directFanoutAt viewers on, a packet the direct receive path reads
// is forwarded by the track's own goroutine (forwardQueued), not by the
// shared socket's reader: that one goroutine reads every publisher's
// packets, and a fan-out to many viewers (about 5 µs a viewer) would hold
// up the others' packets and leave the second core idle. Below it, and
// for recording alone, the reader forwards itself, without a hand-off.
const (
	directFanoutAt = 4
	directQueue    = 256 // packets queued for forwardQueued
)

// publishedTrack is one track a publisher sends: read once, written to the
// shared local tracks every viewer's PeerConnection is bound to (one of
// two halves), and handed to the publisher's subscriptions.
type publishedTrack struct {
	owner    *Connection
	info     TrackInfo
	remote   *webrtc.TrackRemote
	receiver *webrtc.RTPReceiver
	local    *webrtc.TrackLocalStaticRTP // the first half, written by readRTP
	second   *webrtc.TrackLocalStaticRTP // the second half, written by writeSecond
	handoff  chan *rtp.Packet            // readRTP to writeSecond; closed when readRTP ends
	queued   chan *rtp.Packet            // handleDirect to forwardQueued; closed when readRTP ends
	history  *trackHistory               // forwarded packets for viewers' NACKs; nil for audio
	reports  senderReports               // the viewers' RTCP sender reports
	limiter  keyframeLimiter
	ended    atomic.Bool
	viewers  atomic.Int64 // viewers bound to either half
	seconds  atomic.Int64 // of which bound to the second half

	// source is set on a simulcast layer (the remote track has a rid):
	// the layer is forwarded through it, not through the halves.
	source *simulcastSource
	layer  int

	// spot is set, before the read loop starts, on a track of a
	// spotlight channel's publisher (spotlighttap.go).
	spot *spotTap

	// mu serialises handle: pion's read loop and the direct receive path
	// (handleDirect) overlap for a moment when the path takes the track
	// over, and pion's loop may still return packets it had buffered.
	mu      sync.Mutex
	stopped bool // the read loop ended: handle drops packets
}

func newPublishedTrack(owner *Connection, remote *webrtc.TrackRemote, receiver *webrtc.RTPReceiver) (*publishedTrack, error) {
	codec := remote.Codec()
	id := remote.Kind().String() + "-" + remote.ID()
	if rid := remote.RID(); rid != "" {
		id += "-" + rid
	}
	local, err := webrtc.NewTrackLocalStaticRTP(codec.RTPCodecCapability, id, owner.info.ConnectionID)
	if err != nil {
		return nil, err
	}
	second, err := webrtc.NewTrackLocalStaticRTP(codec.RTPCodecCapability, id, owner.info.ConnectionID)
	if err != nil {
		return nil, err
	}
	kind, history := KindVideo, &trackHistory{}
	if remote.Kind() == webrtc.RTPCodecTypeAudio {
		kind, history = KindAudio, nil
	}
	return &publishedTrack{
		owner: owner, remote: remote, receiver: receiver, local: local, second: second,
		handoff: make(chan *rtp.Packet, handoffQueue), history: history,
		queued:  make(chan *rtp.Packet, directQueue),
		limiter: keyframeLimiter{interval: owner.sfu.cfg.PLIInterval},
		info: TrackInfo{
			ConnectionID: owner.info.ConnectionID, TrackID: id, Kind: kind,
			MimeType: codec.MimeType, ClockRate: codec.ClockRate, Channels: codec.Channels,
			SDPFmtpLine: codec.SDPFmtpLine, PayloadType: uint8(codec.PayloadType),
			SSRC: uint32(remote.SSRC()),
		},
	}, nil
}

// readRTP is the track's read loop: it forwards every packet pion
// returns to the viewers and the subscriptions until the publisher's
// PeerConnection ends. Once the direct receive path took the track over
// it only returns what pion had buffered, and RTCP-driven work goes on.
func (t *publishedTrack) readRTP() {
	defer t.stop()
	failures := 0
	for {
		p, _, err := t.remote.ReadRTP()
		if err != nil {
			if t.owner.readContinues(err, &failures) {
				continue
			}
			t.logEnd("rtp", err)
			return
		}
		failures = 0
		t.handle(p, false)
	}
}

// handleDirect takes a packet from the direct receive path, on the
// shared socket's reader goroutine: forwarded there, or from
// directFanoutAt viewers on queued for forwardQueued (a full queue drops
// it). A payload type other than the
// track's is one the client never negotiated for it: counted and
// skipped, as pion's read loop does.
func (t *publishedTrack) handleDirect(p *rtp.Packet) {
	c := &t.owner.sfu.counters
	if p.PayloadType != t.info.PayloadType {
		c.malformed.Add(1)
		return
	}
	c.directRTP.Add(1)
	if t.viewers.Load() < directFanoutAt {
		t.handle(p, true)
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return
	}
	select {
	case t.queued <- p:
	default:
		c.sinkDropped.Add(1) // the viewers ask again by NACK
	}
}

// forwardQueued forwards the packets handleDirect queues, until the read
// loop ends.
func (t *publishedTrack) forwardQueued() {
	for p := range t.queued {
		t.handle(p, false)
	}
}

// stop ends handle for good once the read loop ends.
func (t *publishedTrack) stop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stopped = true
	close(t.handoff)
	close(t.queued)
}

// handle forwards one received packet to the viewers and the
// subscriptions. direct says it came from the direct receive path, whose
// goroutine reads every connection's packets and must never wait.
func (t *publishedTrack) handle(p *rtp.Packet, direct bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return
	}
	now := t.owner.sfu.now()
	t.count(p)
	if t.spot != nil && t.spot.voice != nil {
		t.spot.observe(t.owner, p, now)
	}
	// Header extension ids are negotiated per PeerConnection; the
	// publisher's do not mean anything to viewers.
	p.Header.Extension, p.Header.Extensions = false, nil
	// The NACK history keeps p's payload without copying it: nothing
	// may modify it from here on. A write error only means one
	// viewer's transport is gone; its own connection notices and
	// leaves.
	if t.history != nil {
		if _, seen := t.history.lookup(p.SequenceNumber); seen {
			// A packet forwarded already: the client repeats recent
			// packets (as RTX) to probe its bandwidth.
			return
		}
		t.history.record(&p.Header, p.Payload)
	}
	if t.source != nil {
		t.source.forward(t, p, now)
	} else {
		t.fanOut(p, now, direct)
	}
	if t.limiter.due(now) {
		t.sendPLI()
	}
}

// fanOut hands p to the viewers (unless spotlight holds it back) and the
// subscriptions.
func (t *publishedTrack) fanOut(p *rtp.Packet, now time.Time, direct bool) {
	if t.spot == nil || t.spot.gate.pass(p.Payload) {
		t.toViewers(p, now, direct)
	}
	for _, s := range t.owner.subscriptions() {
		s.offer(sinkEvent{info: &t.info, rtp: p, arrival: now})
	}
}

// toViewers writes p to both halves of the viewers. From the direct path
// a full hand-off to the second half drops p for that half (its viewers
// ask again by NACK) rather than stalling the socket's reader.
func (t *publishedTrack) toViewers(p *rtp.Packet, now time.Time, direct bool) {
	if t.seconds.Load() > 0 {
		if !direct {
			t.handoff <- p // the second half's writer only reads p
		} else {
			select {
			case t.handoff <- p:
			default:
				t.owner.sfu.counters.sinkDropped.Add(1)
			}
		}
	}
	_ = t.local.WriteRTP(p)
	t.reports.forwarded(len(p.Payload), now)
	if t.reports.ownReportDue(t.owner.sentReports.Load(), now) {
		t.reports.sendOwn(p.Timestamp, now)
	}
}

// writeSecond writes the packets readRTP hands over to the second half of
// the viewers, until readRTP ends.
func (t *publishedTrack) writeSecond() {
	for p := range t.handoff {
		_ = t.second.WriteRTP(p)
	}
}

// halfFor chooses the half a new viewer is bound to: the second once the
// track has splitFanoutAt viewers and the second has fewer than the first.
func (t *publishedTrack) halfFor() *webrtc.TrackLocalStaticRTP {
	n, second := t.viewers.Load(), t.seconds.Load()
	if n >= splitFanoutAt && second < n-second {
		return t.second
	}
	return t.local
}

// bound counts a viewer bound to (delta 1) or unbound from (-1) local.
func (t *publishedTrack) bound(local webrtc.TrackLocal, delta int64) {
	t.viewers.Add(delta)
	if local == webrtc.TrackLocal(t.second) {
		t.seconds.Add(delta)
	}
}

// count adds a received packet to the SFU's totals.
func (t *publishedTrack) count(p *rtp.Packet) {
	c := &t.owner.sfu.counters
	c.rtpPackets.Add(1)
	c.rtpBytes.Add(uint64(len(p.Payload)))
	viewers := uint64(t.viewers.Load())
	c.forwarded.Add(viewers)
	c.forwardedBytes.Add(viewers * uint64(len(p.Payload)))
}

// readRTCP drains the publisher's RTCP for this track and hands sender
// reports to the subscriptions.
func (t *publishedTrack) readRTCP() {
	failures := 0
	read := t.receiver.ReadRTCP
	if rid := t.remote.RID(); rid != "" {
		read = func() ([]rtcp.Packet, interceptor.Attributes, error) { return t.receiver.ReadSimulcastRTCP(rid) }
	}
	for {
		pkts, _, err := read()
		if err != nil {
			if t.owner.readContinues(err, &failures) {
				continue
			}
			t.logEnd("rtcp", err)
			return
		}
		failures = 0
		now := t.owner.sfu.now()
		for _, p := range pkts {
			sr, ok := p.(*rtcp.SenderReport)
			if !ok || sr.SSRC != t.info.SSRC {
				continue
			}
			t.owner.sentReports.Store(true)
			if t.source != nil {
				t.source.senderReport(t, sr, now)
				continue
			}
			t.reports.send(sr.NTPTime, sr.RTPTime)
			for _, s := range t.owner.subscriptions() {
				s.offer(sinkEvent{info: &t.info, sr: sr, arrival: now})
			}
		}
	}
}

func (t *publishedTrack) logEnd(what string, err error) {
	if errors.Is(err, io.EOF) || t.ended.Load() {
		return
	}
	t.owner.log.Debug("track read ended", "track", t.info.TrackID, "what", what, "err", err)
}

// requestKeyframe asks for a keyframe now or, inside the PLI interval,
// once the interval has passed.
func (t *publishedTrack) requestKeyframe() {
	if t.info.Kind != KindVideo {
		return
	}
	if t.limiter.request(t.owner.sfu.now()) {
		t.sendPLI()
	} else {
		t.owner.sfu.counters.merged.Add(1)
	}
}

func (t *publishedTrack) sendPLI() {
	t.owner.sfu.counters.plis.Add(1)
	pli := &rtcp.PictureLossIndication{MediaSSRC: t.info.SSRC}
	if err := t.owner.pc.WriteRTCP([]rtcp.Packet{pli}); err != nil {
		t.owner.log.Debug("send PLI", "track", t.info.TrackID, "err", err)
	}
}

// readViewerRTCP drains the viewer c's RTCP for a forwarded track and
// turns PLI and FIR into keyframe requests (keyframe: the published
// track's, or for a simulcast source the layer the viewer gets).
func (c *Connection) readViewerRTCP(sender *webrtc.RTPSender, keyframe func()) {
	failures := 0
	for {
		pkts, _, err := sender.ReadRTCP()
		if err != nil {
			if c.readContinues(err, &failures) {
				continue
			}
			return
		}
		failures = 0
		for _, p := range pkts {
			switch p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				keyframe()
			}
		}
	}
}

// readBackoff is how many read errors in a row a read loop takes before
// it waits a millisecond before each next read: an error that does not go
// away must not spin a CPU.
const readBackoff = 64

// readContinues tells one of c's read loops what to do after err. A
// stream that is gone (end of stream, a closed pipe or socket, c closing)
// ends the loop: it returns false. Anything else is one packet the SFU
// cannot read — malformed RTP or RTCP, a payload type the client never
// negotiated — which is counted and skipped, so that one bad packet from
// a client never stops a track. failures counts the errors in a row; the
// caller resets it after a good read.
func (c *Connection) readContinues(err error, failures *int) bool {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrClosedPipe) || errors.Is(err, net.ErrClosed) || c.ctx.Err() != nil {
		return false
	}
	c.sfu.counters.malformed.Add(1)
	*failures++
	if *failures < readBackoff {
		return true
	}
	wait := time.NewTimer(time.Millisecond)
	defer wait.Stop()
	select {
	case <-c.ctx.Done():
		return false
	case <-wait.C:
		return true
	}
}
