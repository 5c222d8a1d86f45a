package sfu

import (
	"errors"
	"io"
	"sync/atomic"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// publishedTrack is one track a publisher sends: read once, written to one
// shared local track that every viewer's PeerConnection is bound to, and
// handed to the publisher's subscriptions.
type publishedTrack struct {
	owner    *Connection
	info     TrackInfo
	remote   *webrtc.TrackRemote
	receiver *webrtc.RTPReceiver
	local    *webrtc.TrackLocalStaticRTP
	history  *trackHistory // forwarded packets for viewers' NACKs; nil for audio
	reports  senderReports // the viewers' RTCP sender reports
	limiter  keyframeLimiter
	ended    atomic.Bool
	viewers  atomic.Int64 // viewers bound to local
}

func newPublishedTrack(owner *Connection, remote *webrtc.TrackRemote, receiver *webrtc.RTPReceiver) (*publishedTrack, error) {
	codec := remote.Codec()
	id := remote.Kind().String() + "-" + remote.ID()
	local, err := webrtc.NewTrackLocalStaticRTP(codec.RTPCodecCapability, id, owner.info.ConnectionID)
	if err != nil {
		return nil, err
	}
	kind, history := KindVideo, &trackHistory{}
	if remote.Kind() == webrtc.RTPCodecTypeAudio {
		kind, history = KindAudio, nil
	}
	return &publishedTrack{
		owner: owner, remote: remote, receiver: receiver, local: local, history: history,
		limiter: keyframeLimiter{interval: owner.sfu.cfg.PLIInterval},
		info: TrackInfo{
			ConnectionID: owner.info.ConnectionID, TrackID: id, Kind: kind,
			MimeType: codec.MimeType, ClockRate: codec.ClockRate, Channels: codec.Channels,
			SDPFmtpLine: codec.SDPFmtpLine, PayloadType: uint8(codec.PayloadType),
			SSRC: uint32(remote.SSRC()),
		},
	}, nil
}

// readRTP is the track's read loop: it forwards every packet to the
// viewers and the subscriptions until the publisher's PeerConnection ends.
func (t *publishedTrack) readRTP() {
	for {
		p, _, err := t.remote.ReadRTP()
		if err != nil {
			t.logEnd("rtp", err)
			return
		}
		now := t.owner.sfu.now()
		t.count(p)
		// Header extension ids are negotiated per PeerConnection; the
		// publisher's do not mean anything to viewers.
		p.Header.Extension, p.Header.Extensions = false, nil
		// The NACK history keeps p's payload without copying it: nothing
		// may modify it from here on. A write error only means one
		// viewer's transport is gone; its own connection notices and
		// leaves.
		if t.history != nil {
			t.history.record(&p.Header, p.Payload)
		}
		_ = t.local.WriteRTP(p)
		t.reports.forwarded(len(p.Payload), now)
		if t.reports.ownReportDue(t.owner.sentReports.Load(), now) {
			t.reports.sendOwn(p.Timestamp, now)
		}
		for _, s := range t.owner.subscriptions() {
			s.offer(sinkEvent{track: t, rtp: p, arrival: now})
		}
		if t.limiter.due(now) {
			t.sendPLI()
		}
	}
}

// count adds a received packet to the SFU's totals.
func (t *publishedTrack) count(p *rtp.Packet) {
	c := &t.owner.sfu.counters
	c.rtpPackets.Add(1)
	c.rtpBytes.Add(uint64(len(p.Payload)))
	c.forwarded.Add(uint64(t.viewers.Load()))
}

// readRTCP drains the publisher's RTCP for this track and hands sender
// reports to the subscriptions.
func (t *publishedTrack) readRTCP() {
	for {
		pkts, _, err := t.receiver.ReadRTCP()
		if err != nil {
			t.logEnd("rtcp", err)
			return
		}
		now := t.owner.sfu.now()
		for _, p := range pkts {
			sr, ok := p.(*rtcp.SenderReport)
			if !ok || sr.SSRC != t.info.SSRC {
				continue
			}
			t.owner.sentReports.Store(true)
			t.reports.send(sr.NTPTime, sr.RTPTime)
			for _, s := range t.owner.subscriptions() {
				s.offer(sinkEvent{track: t, sr: sr, arrival: now})
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

// readViewerRTCP drains one viewer's RTCP for a forwarded track and turns
// PLI and FIR into keyframe requests on the published track.
func readViewerRTCP(sender *webrtc.RTPSender, t *publishedTrack) {
	for {
		pkts, _, err := sender.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			switch p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				t.requestKeyframe()
			}
		}
	}
}
