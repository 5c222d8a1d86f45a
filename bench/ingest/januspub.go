package ingestbench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kiroku-sfu/kiroku/loadgen"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// janusKeepalive is how often a publisher's session is kept alive
// (Janus ends it after session_timeout, 60 s, of silence).
const janusKeepalive = 20 * time.Second

// janusPublisher is one VideoRoom publisher: a Janus session with a
// handle on the plugin and a pion PeerConnection sending the clip, built
// by loadgen.NewPeerAPI as kiroku's publishers are.
type janusPublisher struct {
	api             *janusAPI
	session, handle uint64
	pc              *webrtc.PeerConnection
	video, audio    *webrtc.TrackLocalStaticRTP
	wantKey         atomic.Bool
	events          chan janusReply
	cancel          context.CancelFunc
	wg              sync.WaitGroup
}

// newJanusPublisher joins room as a publisher and publishes: a full
// offer (every candidate gathered, so no trickle), Janus's answer from
// the event that carries it, then it waits for ICE and DTLS.
func newJanusPublisher(ctx context.Context, api *janusAPI, room uint64, index int) (*janusPublisher, error) {
	session, err := api.createSession(ctx)
	if err != nil {
		return nil, err
	}
	bg, cancel := context.WithCancel(context.Background())
	p := &janusPublisher{api: api, session: session, events: make(chan janusReply, 16), cancel: cancel}
	p.wg.Go(func() { p.pollEvents(bg) })
	p.wg.Go(func() { p.keepAlive(bg) })
	if err := p.publish(ctx, room, index); err != nil {
		return nil, errors.Join(err, p.Close())
	}
	return p, nil
}

func (p *janusPublisher) publish(ctx context.Context, room uint64, index int) error {
	var err error
	if p.handle, err = p.api.attach(ctx, p.session); err != nil {
		return err
	}
	join := map[string]any{"request": "join", "ptype": "publisher", "room": room, "display": fmt.Sprintf("ingest-%d", index)}
	if _, err := p.api.message(ctx, p.session, p.handle, join, nil); err != nil {
		return err
	}
	if _, err := p.waitEvent(ctx, func(r janusReply) bool { return videoroomEvent(r) == "joined" }); err != nil {
		return fmt.Errorf("janus join: %w", err)
	}
	offer, err := p.offer()
	if err != nil {
		return err
	}
	pub := map[string]any{"request": "publish", "audiocodec": "opus", "videocodec": "vp8"}
	if _, err := p.api.message(ctx, p.session, p.handle, pub, &jsep{Type: "offer", SDP: offer}); err != nil {
		return err
	}
	r, err := p.waitEvent(ctx, func(r janusReply) bool { return r.JSEP != nil && r.JSEP.Type == "answer" })
	if err != nil {
		return fmt.Errorf("janus publish: %w", err)
	}
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: r.JSEP.SDP}); err != nil {
		return fmt.Errorf("janus answer: %w", err)
	}
	if err := p.awaitConnected(ctx); err != nil {
		return err
	}
	for _, s := range p.pc.GetSenders() {
		p.wg.Go(func() { p.drainRTCP(s, s.Track() == p.video) })
	}
	return nil
}

// offer makes the PeerConnection with sendonly video and audio and
// returns its offer once gathering is complete.
func (p *janusPublisher) offer() (string, error) {
	api, err := loadgen.NewPeerAPI(clientAddress)
	if err != nil {
		return "", err
	}
	if p.pc, err = api.NewPeerConnection(webrtc.Configuration{}); err != nil {
		return "", fmt.Errorf("janus publisher: %w", err)
	}
	p.video, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "video", "ingest")
	if err == nil {
		p.audio, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", "ingest")
	}
	if err != nil {
		return "", fmt.Errorf("janus publisher: track: %w", err)
	}
	for _, tr := range []*webrtc.TrackLocalStaticRTP{p.video, p.audio} {
		if _, err := p.pc.AddTransceiverFromTrack(tr, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
			return "", fmt.Errorf("janus publisher: transceiver: %w", err)
		}
	}
	offer, err := p.pc.CreateOffer(nil)
	if err != nil {
		return "", fmt.Errorf("janus publisher: offer: %w", err)
	}
	gathered := webrtc.GatheringCompletePromise(p.pc)
	if err := p.pc.SetLocalDescription(offer); err != nil {
		return "", fmt.Errorf("janus publisher: set offer: %w", err)
	}
	<-gathered
	return p.pc.LocalDescription().SDP, nil
}

// awaitConnected waits for ICE and DTLS.
func (p *janusPublisher) awaitConnected(ctx context.Context) error {
	connected := make(chan struct{})
	var once sync.Once
	mark := func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			once.Do(func() { close(connected) })
		}
	}
	p.pc.OnConnectionStateChange(mark)
	mark(p.pc.ConnectionState())
	select {
	case <-connected:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("janus publisher: not connected (%s): %w", p.pc.ConnectionState(), ctx.Err())
	}
}

// videoroomEvent is the "videoroom" field of a VideoRoom event.
func videoroomEvent(r janusReply) string {
	var d struct {
		VideoRoom string `json:"videoroom"`
	}
	_ = json.Unmarshal(r.PluginData.Data, &d)
	return d.VideoRoom
}

// waitEvent returns the first event want accepts; a VideoRoom "error"
// event fails.
func (p *janusPublisher) waitEvent(ctx context.Context, want func(janusReply) bool) (janusReply, error) {
	for {
		select {
		case r := <-p.events:
			if want(r) {
				return r, nil
			}
			var d struct {
				Error string `json:"error"`
			}
			if json.Unmarshal(r.PluginData.Data, &d) == nil && d.Error != "" {
				return r, fmt.Errorf("videoroom error: %s", d.Error)
			}
		case <-ctx.Done():
			return janusReply{}, ctx.Err()
		}
	}
}

// pollEvents long-polls the session until ctx ends; events nobody waits
// for (media, webrtcup, slowlink) are dropped when the queue is full.
func (p *janusPublisher) pollEvents(ctx context.Context) {
	for ctx.Err() == nil {
		r, err := p.api.poll(ctx, p.session)
		if err != nil {
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
			continue
		}
		select {
		case p.events <- r:
		default:
		}
	}
}

func (p *janusPublisher) keepAlive(ctx context.Context) {
	t := time.NewTicker(janusKeepalive)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_ = p.api.keepalive(ctx, p.session)
		}
	}
}

// drainRTCP reads a sender's RTCP (so pion's interceptors see it) and
// notes the video's keyframe requests.
func (p *janusPublisher) drainRTCP(s *webrtc.RTPSender, video bool) {
	for {
		pkts, _, err := s.ReadRTCP()
		if err != nil {
			return
		}
		for _, pkt := range pkts {
			switch pkt.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				if video {
					p.wantKey.Store(true)
				}
			}
		}
	}
}

// WriteRTP sends a video packet.
func (p *janusPublisher) WriteRTP(pkt *rtp.Packet) error {
	if err := p.video.WriteRTP(pkt); err != nil {
		return fmt.Errorf("janus publisher: %w", err)
	}
	return nil
}

// WriteAudioRTP sends an audio packet.
func (p *janusPublisher) WriteAudioRTP(pkt *rtp.Packet) error {
	if err := p.audio.WriteRTP(pkt); err != nil {
		return fmt.Errorf("janus publisher: %w", err)
	}
	return nil
}

// TakeVideoKeyframeRequest reports a PLI or FIR since the last call.
func (p *janusPublisher) TakeVideoKeyframeRequest() bool { return p.wantKey.Swap(false) }

// Close leaves: the session is destroyed, the PeerConnection closed and
// every goroutine waited for.
func (p *janusPublisher) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p.cancel() // the poll and keepalive stop before the session goes
	err := p.api.destroy(ctx, p.session)
	if p.pc != nil {
		err = errors.Join(err, p.pc.Close())
	}
	p.wg.Wait()
	return err
}
