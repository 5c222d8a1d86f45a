package sfu

import (
	"context"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"github.com/kiroku-sfu/kiroku/mux"
	"github.com/kiroku-sfu/kiroku/mux/remux"
)

// simulcastPublisher is a pion client publishing VP8 in three layers with
// rids, as a browser does: one sender with three encodings, each packet
// tagged with the mid and rid header extensions (pion writes neither).
type simulcastPublisher struct {
	pc     *webrtc.PeerConnection
	tracks [simulcastLayers]*webrtc.TrackLocalStaticRTP
	mid    string
	midExt uint8
	ridExt uint8
}

// startSimulcastPublisher connects c (joined with Simulcast) to a pion
// client sending three layers.
func startSimulcastPublisher(t *testing.T, c *Connection) *simulcastPublisher {
	t.Helper()
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(m, ir); err != nil {
		t.Fatal(err)
	}
	if err := webrtc.ConfigureSimulcastExtensionHeaders(m); err != nil {
		t.Fatal(err)
	}
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	pc, err := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)).
		NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	p := &simulcastPublisher{pc: pc}
	for l, rid := range simulcastRIDs {
		p.tracks[l], err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000},
			"camera", "client-stream", webrtc.WithRTPStreamID(rid))
		if err != nil {
			t.Fatal(err)
		}
	}
	sender, err := pc.AddTrack(p.tracks[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range p.tracks[1:] {
		if err := sender.AddEncoding(tr); err != nil {
			t.Fatal(err)
		}
	}
	go func() { // drain RTCP so that the interceptors run
		for {
			if _, _, err := sender.ReadRTCP(); err != nil {
				return
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	offer, _, _, err := c.Offer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p.midExt, p.ridExt = extmapID(t, offer, sdp.SDESMidURI), extmapID(t, offer, sdp.SDESRTPStreamIDURI)
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		t.Fatal(err)
	}
	ans, err := pc.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	done := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(ans); err != nil {
		t.Fatal(err)
	}
	<-done
	// pion echoes the offer's receive rids; a browser answers with its
	// send rids only.
	wire := regexp.MustCompile(`a=(rid:r\d recv|simulcast:recv [^\r]*)\r\n`).ReplaceAllString(pc.LocalDescription().SDP, "")
	if err := c.SetAnswer(wire); err != nil {
		t.Fatalf("set answer: %v", err)
	}
	for _, tr := range pc.GetTransceivers() {
		if tr.Sender() == sender {
			p.mid = tr.Mid()
		}
	}
	return p
}

// extmapID is the id offer gives the header extension uri.
func extmapID(t *testing.T, offer, uri string) uint8 {
	t.Helper()
	for _, line := range strings.Split(offer, "\r\n") {
		if f := strings.Fields(strings.TrimPrefix(line, "a=extmap:")); len(f) == 2 && f[1] == uri {
			n, err := strconv.Atoi(strings.Split(f[0], "/")[0])
			if err == nil {
				return uint8(n)
			}
		}
	}
	t.Fatalf("offer has no extmap for %s", uri)
	return 0
}

// send writes a packet of layer, tagged with its mid and rid.
func (p *simulcastPublisher) send(layer int, pkt *rtp.Packet) error {
	q := *pkt
	q.Header.Extensions = nil
	q.Header.Extension = false
	if err := q.Header.SetExtension(p.midExt, []byte(p.mid)); err != nil {
		return err
	}
	if err := q.Header.SetExtension(p.ridExt, []byte(simulcastRIDs[layer])); err != nil {
		return err
	}
	return p.tracks[layer].WriteRTP(&q)
}

// TestSimulcastPublisherRecorded sends a VP8 simulcast publisher from a
// pion client, in real time, through the SFU's read loops into a
// recorder's subscription, r2 paused from 2 s to 4 s: the recording falls
// back to r1 and returns to r2 with two clean cuts, and decodes with no
// error.
func TestSimulcastPublisherRecorded(t *testing.T) {
	s := newTestSFUWith(t, func(c *Config) { c.SinkQueue = 1 << 14 })
	c, err := s.Join(JoinRequest{ChannelID: "ch", ConnectionID: NewID(), Role: SendOnly, Video: true, Simulcast: true, Peer: newFakePeer()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	const frames = 6 * replayFPS
	var layers [simulcastLayers]replayLayer
	for l := range simulcastLayers {
		layers[l] = packetizeLayer("vp8", encodeLayer(t, "vp8", replaySizes[l], frames), l)
	}
	pub := startSimulcastPublisher(t, c)
	eventually(t, "the publisher connected", 10*time.Second, func() bool {
		return pub.pc.ConnectionState() == webrtc.PeerConnectionStateConnected
	})
	path := t.TempDir() + "/rec.mp4"
	start := time.Now()
	sink := newMuxSink(t, path, mux.VP8, remux.MP4, start)
	sub, err := s.Subscribe(c.ID(), sink)
	if err != nil {
		t.Fatal(err)
	}
	for i := range frames {
		time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second / replayFPS)))
		for k := 0; ; k++ {
			more := false
			for l := range simulcastLayers {
				if k >= len(layers[l].frames[i]) || (l == 2 && i >= 2*replayFPS && i < 4*replayFPS) {
					continue
				}
				more = true
				if err := pub.send(l, layers[l].frames[i][k]); err != nil {
					t.Fatal(err)
				}
			}
			if !more {
				break
			}
		}
	}
	time.Sleep(300 * time.Millisecond)
	eventually(t, "the sink's queue drained", 5*time.Second, func() bool { return len(sub.queue) == 0 })
	_ = sub.Close()
	sum, err := sink.m.Close()
	if err != nil || sink.writeErr != nil {
		t.Fatalf("mux: %v, %v", err, sink.writeErr)
	}
	if sink.changes != 2 || sum.ConfigChanges != 1 {
		t.Errorf("%d layer changes told, %d sample descriptions added; want 2 and 1", sink.changes, sum.ConfigChanges)
	}
	// r2 from its first keyframe the SFU reads (the layers' first
	// packets start their tracks: within a second, frame 30), r1 from
	// 2.5 s, r2 again from 4 s.
	if n, _ := judgeCuts(t, path, "vp8", sum); n < (2*replayFPS-30)+45+60 {
		t.Errorf("%d frames recorded, want at least %d", n, (2*replayFPS-30)+45+60)
	}
}

// TestSimulcastPublisherViewed: a pion viewer of a pion VP8 simulcast
// publisher, moved r0 → r2 → r0 while the publisher sends in real time,
// gets one stream whose sequence numbers, timestamps, picture IDs and
// TL0PICIDX run on across both moves, each move at a keyframe of the new
// layer's size.
func TestSimulcastPublisherViewed(t *testing.T) {
	s := newTestSFU(t, nil)
	pubID := NewID()
	c, err := s.Join(JoinRequest{ChannelID: "ch", ConnectionID: pubID, Role: SendOnly, Video: true, Simulcast: true, Peer: newFakePeer()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	v, log := startFrameViewer(t, s)
	const frames = 6 * replayFPS
	var layers [simulcastLayers]replayLayer
	for l := range simulcastLayers {
		layers[l] = packetizeLayer("vp8", encodeLayer(t, "vp8", replaySizes[l], frames), l)
	}
	pub := startSimulcastPublisher(t, c)
	eventually(t, "the publisher connected", 10*time.Second, func() bool {
		return pub.pc.ConnectionState() == webrtc.PeerConnectionStateConnected
	})
	sent := make(chan error, 1)
	moves := map[int]string{2 * replayFPS: "r2", 4 * replayFPS: "r0"}
	go func() {
		start := time.Now()
		for i := range frames {
			time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second / replayFPS)))
			if rid, ok := moves[i]; ok {
				if err := s.RequestSimulcastRID("ch", v.conn.ID(), pubID, rid); err != nil {
					sent <- err
					return
				}
			}
			for k := 0; ; k++ {
				more := false
				for l := range simulcastLayers {
					if k < len(layers[l].frames[i]) {
						more = true
						if err := pub.send(l, layers[l].frames[i][k]); err != nil {
							sent <- err
							return
						}
					}
				}
				if !more {
					break
				}
			}
		}
		sent <- nil
	}()
	v.reAnswer(t, 5*time.Second) // the source, once its first layer is read
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	// r0 from a keyframe within the first second on.
	checkViewedFrames(t, log.settled(t), 5*replayFPS)
}
