package sfu

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"github.com/kiroku-sfu/kiroku/sfu/srtpout"
)

// Connection is one client's PeerConnection in a channel. Create it with
// [SFU.Join]; end it with Close.
type Connection struct {
	sfu  *SFU
	info ConnectionInfo
	peer Peer
	pc   *webrtc.PeerConnection
	api  *webrtc.API    // this connection's own: it holds nack
	nack *nackResponder // answers the viewer's NACKs from forwarded tracks' histories
	path *srtpout.Path  // sends the connection's RTP; nil when pion's write path does
	log  *slog.Logger
	caps *videoCapabilities // what the client decodes

	audioRecv, videoRecv *webrtc.RTPTransceiver         // upstream, nil for viewers
	channels             map[string]*messagingChannel   // by label; fixed after Join
	channelSpecs         []DataChannel                  // as requested
	system               map[string]*webrtc.DataChannel // DataChannel signaling, by label

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // every goroutine this connection started
	kick   chan struct{}  // wakes the renegotiation loop

	mu     sync.Mutex
	closed bool
	// simulcast is this publisher's simulcast video (nil unless it asked
	// for simulcast); layered are the simulcast sources it views, at
	// simulcastTarget unless asked otherwise (requestLayer).
	simulcast       *simulcastSource
	layered         map[*simulcastSource]*layeredForward
	simulcastTarget int
	tracks          map[string]*publishedTrack                 // what this connection publishes
	forwards        map[*publishedTrack]*webrtc.RTPTransceiver // what it receives
	free            []*webrtc.RTPTransceiver                   // slots to reuse
	dead            []*webrtc.RTPTransceiver                   // slots the client rejected: never reused (refusal.go)
	retried         map[*publishedTrack]bool                   // offered again after a rejected m-line
	// slotAnswers holds the client's last answer section per mid and
	// rejected the mids the last offer rejected (see rejection.go).
	slotAnswers map[string]*sdp.MediaDescription
	rejected    map[string]bool
	answered    bool // the first answer arrived
	noRTX       bool // the client's first answer with video had no RTX: retransmissions go plain
	rtxKnown    bool // an answer with video arrived
	outstanding bool // an offer awaits its answer
	dirty       bool // forwards changed since the last offer

	subs atomic.Pointer[[]*Subscription] // copy-on-write, changed under mu
	// sentReports: the client has sent an RTCP sender report for one of
	// its tracks, so its viewers get its reports and never the SFU's own.
	sentReports atomic.Bool
	closeOnce   sync.Once

	// spot is the channel's spotlight, set when admitted to one
	// (spotlight.go); spotAsked and spotNumber are the join's.
	spot       atomic.Pointer[spotlight]
	spotAsked  bool
	spotNumber int
	// spotConnect are the focus and unfocus layers the connection asked
	// for at connect; spotRIDs the ones in force, spotSenders those
	// asked for single publishers (by connection id); under mu.
	spotConnect, spotRIDs spotLayers
	spotSenders           map[string]spotLayers

	clientOffer string    // the client's offer, answered once (clientoffer.go)
	follow      *follower // set for a following connection (follow.go)
}

// Info returns the connection's description.
func (c *Connection) Info() ConnectionInfo { return c.info }

// ID returns the connection_id.
func (c *Connection) ID() string { return c.info.ConnectionID }

// Offer creates the first SDP offer with every server ICE candidate inside
// and the mids of the client's upstream audio and video m-lines (empty for
// viewers).
func (c *Connection) Offer(ctx context.Context) (wire, audioMid, videoMid string, err error) {
	c.mu.Lock()
	c.outstanding, c.dirty = true, false
	c.mu.Unlock()
	offer, err := c.pc.CreateOffer(nil)
	if err != nil {
		return "", "", "", fmt.Errorf("create offer: %w", err)
	}
	gathered := webrtc.GatheringCompletePromise(c.pc)
	if err := c.pc.SetLocalDescription(offer); err != nil {
		return "", "", "", fmt.Errorf("set local offer: %w", err)
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return "", "", "", fmt.Errorf("gather candidates: %w", ctx.Err())
	}
	if c.audioRecv != nil {
		audioMid = c.audioRecv.Mid()
	}
	if c.videoRecv != nil {
		videoMid = c.videoRecv.Mid()
	}
	wire, err = c.wireOffer(c.pc.LocalDescription().SDP)
	return wire, audioMid, videoMid, err
}

// wireOffer turns pion's offer into the one the client gets: slots freed
// by departed publishers are rejected (port 0), as Sora does.
func (c *Connection) wireOffer(offer string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	free := make(map[string]bool, len(c.free)+len(c.dead))
	for _, tr := range append(slices.Clip(c.free), c.dead...) {
		if mid := tr.Mid(); mid != "" {
			free[mid] = true
		}
	}
	wire, rejected, err := rejectSlots(offer, free, c.slotAnswers)
	if err != nil {
		return "", fmt.Errorf("reject freed slots: %w", err)
	}
	if c.simulcast != nil && c.videoRecv != nil {
		if wire, err = addSimulcastRecv(wire, c.videoRecv.Mid()); err != nil {
			return "", err
		}
	}
	c.rejected = rejected
	return wire, nil
}

// SetAnswer applies the client's answer or re-answer. Changes that
// happened while the offer was outstanding are re-offered afterwards. An
// answer that arrives after the connection closed fails with ErrClosed.
func (c *Connection) SetAnswer(answer string) error {
	offer := ""
	if d := c.pc.PendingLocalDescription(); d != nil {
		offer = d.SDP
	}
	var again []*publishedTrack
	c.mu.Lock()
	recycled := make(map[string]bool, len(c.slotAnswers))
	for mid := range c.slotAnswers {
		recycled[mid] = true
	}
	answer, err := restoreRejected(answer, c.rejected, c.slotAnswers)
	if err == nil && offer != "" {
		answer, again, err = c.acceptRefusals(answer, offer, recycled)
	}
	if !c.rtxKnown {
		// The first answer with video tells whether the client does RTX.
		has, known := answerRTX(answer)
		c.noRTX, c.rtxKnown = known && !has, known
	}
	noRTX := c.noRTX
	c.mu.Unlock()
	if err == nil {
		answer, err = withEveryVideoCodec(answer, !noRTX)
	}
	if err != nil {
		return fmt.Errorf("set remote answer: %w", err)
	}
	err = c.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer})
	if err != nil && (c.ctx.Err() != nil || errors.Is(err, webrtc.ErrConnectionClosed)) {
		return fmt.Errorf("set remote answer: %w", ErrClosed) // it came after the connection ended
	}
	if err != nil {
		return fmt.Errorf("set remote answer: %w", err)
	}
	c.mu.Lock()
	c.answered, c.outstanding = true, false
	c.mu.Unlock()
	for _, t := range again {
		c.addForward(t)
	}
	c.wake()
	return nil
}

// AwaitingAnswer reports whether an offer was sent and not yet answered.
func (c *Connection) AwaitingAnswer() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.outstanding
}

// AddICECandidate adds a trickled remote candidate ("candidate:…").
// An empty candidate marks the end of the client's candidates.
func (c *Connection) AddICECandidate(candidate, sdpMid string, sdpMLineIndex *uint16) error {
	init := webrtc.ICECandidateInit{Candidate: candidate, SDPMLineIndex: sdpMLineIndex}
	if sdpMid != "" {
		init.SDPMid = &sdpMid
	}
	if err := c.pc.AddICECandidate(init); err != nil {
		return fmt.Errorf("add ice candidate: %w", err)
	}
	return nil
}

// Push delivers a push message to the client.
func (c *Connection) push(data []byte) { c.peer.Push(data) }

// wake nudges the renegotiation loop without blocking.
func (c *Connection) wake() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// markDirty records that the set of forwarded tracks changed.
func (c *Connection) markDirty() {
	c.mu.Lock()
	c.dirty = true
	c.mu.Unlock()
	c.wake()
}

// negotiate runs until the connection closes, sending one re-offer at a
// time whenever forwards changed and no offer is outstanding.
func (c *Connection) negotiate() {
	defer c.wg.Done()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-c.kick:
		}
		c.mu.Lock()
		ready := c.answered && !c.outstanding && c.dirty && !c.closed && c.clientOffer == ""
		if ready {
			c.outstanding, c.dirty = true, false
		}
		c.mu.Unlock()
		if ready {
			c.reOffer()
		}
	}
}

func (c *Connection) reOffer() {
	offer, err := c.pc.CreateOffer(nil)
	if err == nil {
		err = c.pc.SetLocalDescription(offer)
	}
	if err != nil {
		if c.ctx.Err() != nil || c.pc.ConnectionState() == webrtc.PeerConnectionStateClosed ||
			errors.Is(err, webrtc.ErrConnectionClosed) {
			return // closing: the offer does not matter any more
		}
		c.log.Warn("re-offer failed", "err", err)
		c.peer.Disconnect("INTERNAL-ERROR")
		return
	}
	wire, err := c.wireOffer(c.pc.LocalDescription().SDP)
	if err != nil {
		c.log.Warn("re-offer failed", "err", err)
		c.peer.Disconnect("INTERNAL-ERROR")
		return
	}
	c.peer.ReOffer(wire)
}

// track returns a published track by id, or nil. A simulcast video's
// id gives the layer the recorder follows.
func (c *Connection) track(id string) *publishedTrack {
	if c.simulcast != nil && id == c.simulcast.trackInfo().TrackID {
		return c.simulcast.recordedTrack()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tracks[id]
}

// publishedTracks returns a snapshot of what the connection publishes.
func (c *Connection) publishedTracks() []*publishedTrack {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*publishedTrack, 0, len(c.tracks))
	for _, t := range c.tracks {
		out = append(out, t)
	}
	return out
}

// requestKeyFrames asks every published video track for a keyframe.
func (c *Connection) requestKeyFrames() {
	for _, t := range c.publishedTracks() {
		t.requestKeyframe()
	}
}

func (c *Connection) subscriptions() []*Subscription {
	if p := c.subs.Load(); p != nil {
		return *p
	}
	return nil
}
