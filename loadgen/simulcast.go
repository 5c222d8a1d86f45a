package loadgen

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// Simulcast layers as Sora asks for them: rids r0 (a quarter of the
// resolution), r1 (half) and r2 (full), lowest first.
const simulcastLayers = 3

var simulcastRIDs = [simulcastLayers]string{"r0", "r1", "r2"}

// layerSender is a simulcast publisher's video: one sender with three
// encodings, as a browser sends it. pion writes neither the mid nor the
// rid header extension, so every packet is tagged here with the ids the
// server's offer gave them; a server with a simulcast receive m-line
// needs both to tell the layers apart (their SSRCs are not signaled).
type layerSender struct {
	tracks [simulcastLayers]*webrtc.TrackLocalStaticRTP
	midExt uint8
	ridExt uint8
	mid    atomic.Pointer[string]
	// wantKey: the server asked for a keyframe of the layer (PLI or FIR
	// received), which its next packet then is.
	wantKey [simulcastLayers]atomic.Bool
	ssrc    [simulcastLayers]atomic.Uint32
}

func newLayerSender(codec webrtc.RTPCodecCapability) (*layerSender, error) {
	s := &layerSender{}
	for i, rid := range simulcastRIDs {
		tr, err := webrtc.NewTrackLocalStaticRTP(codec, "video", "loadgen", webrtc.WithRTPStreamID(rid))
		if err != nil {
			return nil, fmt.Errorf("layer %s: %w", rid, err)
		}
		s.tracks[i] = tr
	}
	return s, nil
}

// attach adds the layers to the sender the first track went to and reads
// the header extension ids from the server's offer.
func (s *layerSender) attach(sender *webrtc.RTPSender, offer string) error {
	for _, tr := range s.tracks[1:] {
		if err := sender.AddEncoding(tr); err != nil {
			return fmt.Errorf("add simulcast encoding: %w", err)
		}
	}
	var err error
	if s.midExt, err = extmapID(offer, sdp.SDESMidURI); err != nil {
		return err
	}
	s.ridExt, err = extmapID(offer, sdp.SDESRTPStreamIDURI)
	return err
}

// setMid notes the mid the sender's transceiver got.
func (s *layerSender) setMid(pc *webrtc.PeerConnection, sender *webrtc.RTPSender) {
	for _, tr := range pc.GetTransceivers() {
		if tr.Sender() == sender {
			mid := tr.Mid()
			s.mid.Store(&mid)
		}
	}
}

// write sends p on layer, tagged with the mid and rid.
func (s *layerSender) write(layer int, p *rtp.Packet) error {
	mid := s.mid.Load()
	if layer < 0 || layer >= simulcastLayers || mid == nil {
		return fmt.Errorf("loadgen: layer %d cannot be sent (mid known: %t)", layer, mid != nil)
	}
	q := *p
	q.Header.Extensions = nil
	q.Header.Extension = false
	if err := q.Header.SetExtension(s.midExt, []byte(*mid)); err != nil {
		return fmt.Errorf("loadgen: mid extension: %w", err)
	}
	if err := q.Header.SetExtension(s.ridExt, []byte(simulcastRIDs[layer])); err != nil {
		return fmt.Errorf("loadgen: rid extension: %w", err)
	}
	if err := s.tracks[layer].WriteRTP(&q); err != nil {
		return fmt.Errorf("loadgen: write layer %s: %w", simulcastRIDs[layer], err)
	}
	return nil
}

// readRTCP reads layer's RTCP until the sender stops (so that the
// interceptors see it) and notes keyframe requests.
func (s *layerSender) readRTCP(sender *webrtc.RTPSender, layer int) {
	for {
		pkts, _, err := sender.ReadSimulcastRTCP(simulcastRIDs[layer])
		if err != nil {
			return
		}
		for _, p := range pkts {
			switch p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				s.wantKey[layer].Store(true)
			}
		}
	}
}

// SentAtLayer is SentAt for simulcast layer layer (0 for r0) of a
// client with Simulcast; seq is the number the client sent the packet
// with, which a server may renumber when it moves a receiver between
// layers.
func (c *Client) SentAtLayer(layer int, seq uint16) (time.Time, bool) {
	if c.layers == nil || layer < 0 || layer >= simulcastLayers {
		return time.Time{}, false
	}
	ssrc := c.layers.ssrc[layer].Load()
	if ssrc == 0 {
		if ssrc = c.encodingSSRC(layer); ssrc == 0 {
			return time.Time{}, false
		}
		c.layers.ssrc[layer].Store(ssrc)
	}
	return c.sentLog.lookup(ssrc, seq)
}

// encodingSSRC is the SSRC of the video sender's encoding i; 0 when not
// known yet.
func (c *Client) encodingSSRC(i int) uint32 {
	for _, s := range c.pc.GetSenders() {
		if s.Track() != c.track {
			continue
		}
		if enc := s.GetParameters().Encodings; i < len(enc) {
			return uint32(enc[i].SSRC)
		}
	}
	return 0
}

// WriteLayerRTP sends one packet of simulcast layer layer (0 for r0) of
// a client with Simulcast, tagged with the mid and rid header
// extensions; the payload type and SSRC are rewritten to the negotiated
// ones.
func (c *Client) WriteLayerRTP(layer int, p *rtp.Packet) error {
	if c.layers == nil {
		return errors.New("loadgen: the client sends no simulcast layers")
	}
	return c.layers.write(layer, p)
}

// TakeKeyframeRequest reports whether the server asked for a keyframe of
// simulcast layer layer (PLI or FIR) since the last call.
func (c *Client) TakeKeyframeRequest(layer int) bool {
	return c.layers != nil && layer >= 0 && layer < simulcastLayers && c.layers.wantKey[layer].Swap(false)
}

// extmapLine matches an a=extmap line: its id and URI.
var extmapLine = regexp.MustCompile(`(?m)^a=extmap:(\d+)(?:/\w+)? (\S+)\r?$`)

// extmapID is the id sdp gives the header extension uri.
func extmapID(sdpText, uri string) (uint8, error) {
	for _, m := range extmapLine.FindAllStringSubmatch(sdpText, -1) {
		if m[2] != uri {
			continue
		}
		id, err := strconv.Atoi(m[1])
		if err != nil || id < 1 || id > 14 {
			return 0, fmt.Errorf("loadgen: extmap id %q for %s is not a one-byte header id", m[1], uri)
		}
		return uint8(id), nil
	}
	return 0, fmt.Errorf("loadgen: the offer has no extmap for %s", uri)
}

// withoutRecvLayers removes what pion echoes of the server's receive
// layers from an answer (a=rid:… recv, a=simulcast:recv …): a browser
// answers with its send layers only.
func withoutRecvLayers(answer string) string {
	lines := strings.SplitAfter(answer, "\n")
	out := lines[:0]
	for _, l := range lines {
		t := strings.TrimRight(l, "\r\n")
		if strings.HasPrefix(t, "a=simulcast:recv ") || strings.HasPrefix(t, "a=rid:") && strings.HasSuffix(t, " recv") {
			continue
		}
		out = append(out, l)
	}
	return strings.Join(out, "")
}
