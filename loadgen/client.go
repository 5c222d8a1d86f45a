package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/pion/transport/v5/stdnet"
	"log/slog"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// Roles a client connects with.
const (
	RoleSendonly = "sendonly"
	RoleRecvonly = "recvonly"
	RoleSendrecv = "sendrecv"
)

// PacketHandler receives every RTP packet a subscriber reads: read is
// when the client's WebRTC stack handed it over, socket when it reached
// the client's UDP socket (zero when unknown, as for a packet repaired
// from a retransmission). It is called from one goroutine per received
// track and must not keep p, whose buffer is reused.
type PacketHandler func(p *rtp.Packet, read, socket time.Time)

// ClientConfig describes one signaling connection.
type ClientConfig struct {
	// URL is the signaling endpoint, ws://HOST:PORT/signaling.
	URL string
	// Channel is the channel_id to join.
	Channel string
	// Role is RoleSendonly, RoleRecvonly or RoleSendrecv.
	Role string
	// Label goes into the connect metadata, to tell clients apart in the
	// server's logs.
	Label string
	// LocalAddress restricts ICE to this local IPv4 address; empty
	// gathers on every non-loopback interface.
	LocalAddress string
	// VideoCodec is the codec_type a publishing client sends its video
	// in: VP8 (the default), VP9, AV1, H264 or H265.
	VideoCodec string
	// Audio makes a publishing client send an Opus track too
	// (WriteAudioRTP).
	Audio bool
	// Simulcast is connect's "simulcast": a publishing client then sends
	// its video in three layers, rids r0, r1 and r2 (WriteLayerRTP).
	Simulcast bool
	// SimulcastRID is connect's "simulcast_rid": the layer of simulcast
	// publishers this client receives; empty leaves it to the server.
	SimulcastRID string
	// OnPacket receives forwarded packets; nil discards them.
	OnPacket PacketHandler
	// Logger receives the client's logs; nil discards them.
	Logger *slog.Logger
	// Now is the clock for arrival times; nil means time.Now.
	Now func() time.Time
	// WHIP publishes by WHIP instead of the WebSocket signaling: URL is
	// then the WHIP endpoint (http://HOST:PORT/whip/{channel_id}) and
	// Channel, Label, Simulcast and SimulcastRID are not used.
	WHIP bool
	// Token is a WHIP client's bearer token; empty sends none.
	Token string
	// TURN makes the client relay only, through the offer's TURN URLs of
	// this transport (TURNUDP, TURNTCP); TURNOff sends media directly.
	TURN string
}

// Client is one Sora connection: a WebSocket and a PeerConnection. A
// publishing client (sendonly, sendrecv) sends what is given to WriteRTP.
type Client struct {
	cfg   ClientConfig
	log   *slog.Logger
	ws    *websocket.Conn
	wsMu  sync.Mutex // serialises writes to ws
	pc    *webrtc.PeerConnection
	track *webrtc.TrackLocalStaticRTP
	audio *webrtc.TrackLocalStaticRTP // nil unless Audio
	// layers sends the video's simulcast layers (track is the first);
	// nil unless a publishing client has Simulcast.
	layers *layerSender
	id     string
	// resource is a WHIP client's resource URL, to DELETE at Close.
	resource *url.URL
	// arrived notes when RTP reached the socket; nil unless OnPacket is set.
	arrived *arrivals
	// sentLog notes when RTP left the socket; nil for recvonly clients.
	sentLog  *arrivals
	sentSSRC atomic.Uint32 // the published track's SSRC, once known
	// wantKey: the server asked for a keyframe of the (plain) video
	// track, by PLI or FIR, since TakeVideoKeyframeRequest last looked.
	wantKey atomic.Bool

	mu       sync.Mutex
	answered bool                      // the first answer went out
	pending  []webrtc.ICECandidateInit // candidates gathered before it
	closed   bool
	wg       sync.WaitGroup // reader, RTCP drain and track readers

	created   chan struct{} // own connection.created arrived
	readerEnd chan struct{} // the WebSocket reader returned
	readErr   error         // why; valid after readerEnd
	closeOnce sync.Once
	closeErr  error
}

// Dial connects to the channel and returns once the PeerConnection is
// connected and the server announced the connection with its own
// connection.created notify, as the Sora SDKs wait for.
func Dial(ctx context.Context, cfg ClientConfig) (*Client, error) {
	c, err := newClient(cfg)
	if err != nil {
		return nil, err
	}
	if err := c.start(ctx); err != nil {
		return nil, errors.Join(err, c.Close())
	}
	return c, nil
}

func newClient(cfg ClientConfig) (*Client, error) {
	switch cfg.Role {
	case RoleSendonly, RoleRecvonly, RoleSendrecv:
	default:
		return nil, fmt.Errorf("loadgen: invalid role %q", cfg.Role)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.VideoCodec == "" {
		cfg.VideoCodec = "VP8"
	}
	codec, ok := videoCodecs[cfg.VideoCodec]
	if !ok {
		return nil, fmt.Errorf("loadgen: unknown video codec %q", cfg.VideoCodec)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	std, err := stdnet.NewNet()
	if err != nil {
		return nil, fmt.Errorf("loadgen: network: %w", err)
	}
	network := &arrivalNet{Net: std, now: cfg.Now}
	if cfg.OnPacket != nil {
		network.in = &arrivals{}
	}
	if cfg.Role != RoleRecvonly {
		network.out = &arrivals{}
	}
	layered := cfg.Simulcast && cfg.Role != RoleRecvonly
	api, err := newAPI(cfg.LocalAddress, network, layered)
	if err != nil {
		return nil, fmt.Errorf("loadgen: %w", err)
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, fmt.Errorf("loadgen: new peer connection: %w", err)
	}
	c := &Client{cfg: cfg, log: cfg.Logger, pc: pc, arrived: network.in, sentLog: network.out, created: make(chan struct{}), readerEnd: make(chan struct{})}
	if cfg.Role != RoleRecvonly {
		if layered {
			c.layers, err = newLayerSender(codec.RTPCodecCapability)
			if err == nil {
				c.track = c.layers.tracks[0]
			}
		} else {
			c.track, err = webrtc.NewTrackLocalStaticRTP(codec.RTPCodecCapability, "video", "loadgen")
		}
		if err == nil && cfg.Audio {
			c.audio, err = webrtc.NewTrackLocalStaticRTP(opus.RTPCodecCapability, "audio", "loadgen")
		}
		if err != nil {
			return nil, errors.Join(fmt.Errorf("loadgen: new track: %w", err), pc.Close())
		}
	}
	pc.OnICECandidate(c.trickle)
	pc.OnTrack(c.onTrack)
	return c, nil
}

// ConnectionID is the connection_id the server assigned.
func (c *Client) ConnectionID() string { return c.id }

// SentAt is when the published packet with sequence number seq left the
// client's UDP socket, if it is still remembered.
func (c *Client) SentAt(seq uint16) (time.Time, bool) {
	if c.track == nil {
		return time.Time{}, false
	}
	ssrc := c.sentSSRC.Load()
	if ssrc == 0 {
		if ssrc = c.encodingSSRC(0); ssrc == 0 {
			return time.Time{}, false
		}
		c.sentSSRC.Store(ssrc)
	}
	return c.sentLog.lookup(ssrc, seq)
}

// WriteRTP sends one packet on a publishing client's video track; the
// payload type and SSRC are rewritten to the negotiated ones.
func (c *Client) WriteRTP(p *rtp.Packet) error {
	if c.track == nil {
		return errors.New("loadgen: a recvonly client cannot send")
	}
	if err := c.track.WriteRTP(p); err != nil {
		return fmt.Errorf("loadgen: write rtp: %w", err)
	}
	return nil
}

// TakeVideoKeyframeRequest reports whether the server asked for a
// keyframe of a plain (not simulcast) publisher's video, by PLI or FIR,
// since the last call.
func (c *Client) TakeVideoKeyframeRequest() bool { return c.wantKey.Swap(false) }

// WriteAudioRTP sends one packet on a publishing client's audio track
// (ClientConfig.Audio); the payload type and SSRC are rewritten to the
// negotiated ones.
func (c *Client) WriteAudioRTP(p *rtp.Packet) error {
	if c.audio == nil {
		return errors.New("loadgen: the client sends no audio")
	}
	if err := c.audio.WriteRTP(p); err != nil {
		return fmt.Errorf("loadgen: write audio rtp: %w", err)
	}
	return nil
}

// start runs connect → offer → answer, starts the reader and waits until
// the connection is up.
func (c *Client) start(ctx context.Context) error {
	if c.cfg.WHIP {
		return c.startWHIP(ctx)
	}
	ws, _, err := websocket.DefaultDialer.DialContext(ctx, c.cfg.URL, nil)
	if err != nil {
		return fmt.Errorf("loadgen: dial %s: %w", c.cfg.URL, err)
	}
	ws.SetReadLimit(maxMessageBytes)
	c.ws = ws
	if err := c.sendConnect(); err != nil {
		return err
	}
	offer, err := c.readOffer(ctx)
	if err != nil {
		return err
	}
	c.id = offer.ConnectionID
	if err := c.relayThrough(offer.Config); err != nil {
		return err
	}
	if err := c.answer("answer", offer.SDP); err != nil {
		return err
	}
	c.wg.Add(1)
	go c.readLoop()
	if c.track != nil {
		c.startRTCPDrain()
	}
	return c.awaitConnected(ctx)
}

func (c *Client) sendConnect() error {
	meta, err := json.Marshal(map[string]string{"loadgen": c.cfg.Label})
	if err != nil {
		return fmt.Errorf("loadgen: encode metadata: %w", err)
	}
	msg := connectMessage{Type: "connect", Role: c.cfg.Role, ChannelID: c.cfg.Channel, Metadata: meta,
		Audio: c.audio != nil, Video: &videoOption{CodecType: c.cfg.VideoCodec}, SoraClient: "kiroku loadgen",
		Environment: "go", Simulcast: c.cfg.Simulcast, SimulcastRID: c.cfg.SimulcastRID}
	return c.write(msg)
}

// readOffer reads until the offer; a close before it is the server's
// refusal and is returned with its code and reason.
func (c *Client) readOffer(ctx context.Context) (serverMessage, error) {
	if deadline, ok := ctx.Deadline(); ok {
		_ = c.ws.SetReadDeadline(deadline)
		defer func() { _ = c.ws.SetReadDeadline(time.Time{}) }()
	}
	for {
		m, err := c.readMessage()
		if err != nil {
			return m, fmt.Errorf("loadgen: waiting for offer: %w", err)
		}
		if m.Type == "offer" {
			return m, nil
		}
	}
}

func (c *Client) readMessage() (serverMessage, error) {
	typ, raw, err := c.ws.ReadMessage()
	if err != nil {
		return serverMessage{}, err
	}
	if typ != websocket.TextMessage {
		return serverMessage{}, fmt.Errorf("%w: binary frame", errMalformed)
	}
	return parseServerMessage(raw)
}

// write sends one JSON message; writes come from several goroutines.
func (c *Client) write(v any) error {
	c.wsMu.Lock()
	defer c.wsMu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if err := c.ws.WriteJSON(v); err != nil {
		return fmt.Errorf("loadgen: send: %w", err)
	}
	return nil
}
