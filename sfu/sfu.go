package sfu

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"github.com/kiroku-sfu/kiroku/sfu/srtpout"
)

// SFU holds every channel and connection. It is safe for concurrent use.
type SFU struct {
	cfg      Config
	log      *slog.Logger
	engines  engines
	udpMux   io.Closer // the shared media sockets (udp_port); nil with a port range
	observer Observer
	counters counters

	closeOnce sync.Once // closes udpMux

	mu       sync.Mutex
	closed   bool
	mode     Mode
	channels map[string]*channel
	conns    map[string]*Connection
}

// channel is a channel with a live session: it exists while it has
// connections.
type channel struct {
	session SessionInfo
	conns   map[string]*Connection
	spot    *spotlight // nil unless a spotlight channel
}

// New validates cfg and builds the WebRTC engines.
func New(cfg Config) (*SFU, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	obs := cfg.Observer
	if obs == nil {
		obs = nopObserver{}
	}
	var demux *srtpout.Demux
	if cfg.DirectSRTP && cfg.DirectSRTPReceive {
		demux = srtpout.NewDemux()
	}
	se, udpMux, sockets, err := newSettingEngine(&cfg, demux)
	if err != nil {
		return nil, fmt.Errorf("sfu: %w", err)
	}
	engines, err := newEngines(&cfg, se, sockets, demux)
	if err != nil {
		if udpMux != nil {
			err = errors.Join(err, udpMux.Close())
		}
		return nil, fmt.Errorf("sfu: %w", err)
	}
	return &SFU{cfg: cfg, log: cfg.Logger, engines: engines, udpMux: udpMux, observer: obs, mode: ModeNormal,
		channels: make(map[string]*channel), conns: make(map[string]*Connection)}, nil
}

func (s *SFU) now() time.Time { return s.cfg.Now() }

// JoinRequest describes a new connection.
type JoinRequest struct {
	ChannelID    string
	ConnectionID string // from NewID; must be unique
	ClientID     string // defaults to ConnectionID
	BundleID     string // defaults to ConnectionID
	Role         Role
	Audio, Video bool  // whether the client publishes audio / video
	VideoCodec   Codec // empty means Config.DefaultVideoCodec
	Metadata     any   // opaque, returned in ConnectionInfo
	Peer         Peer
	// DataChannels are the messaging channels to create.
	DataChannels []DataChannel
	// DataChannelSignaling creates the system channels (SystemLabels);
	// Peer must then implement SystemPeer.
	DataChannelSignaling bool
	// Simulcast is the connect's "simulcast": a client that publishes
	// video is asked for three layers (rids r0, r1, r2); viewers get one.
	Simulcast bool
	// SimulcastRID is the layer this connection receives of simulcast
	// publishers ("r0", "r1", "r2"); empty means r0, as Sora's default.
	SimulcastRID string
	// CapabilitySDP is the connect's "sdp": an offer the client made only
	// to show what it can decode. A publisher's video in a codec it lacks
	// is not forwarded to this connection. Empty: every codec is offered.
	CapabilitySDP string
	// ClientOffer is the client's offer when the client offers (WHIP,
	// WHEP): Connection.Answer answers it, instead of Offer and
	// SetAnswer. Such a connection is never renegotiated. A publisher's
	// video is answered in the offer's own format of VideoCodec.
	ClientOffer string
	// Follow makes a recvonly ClientOffers connection play one publisher
	// of the channel on one audio and one video track (WHEP, follow.go):
	// FollowConnectionID while it is there, else the most recent one.
	Follow             bool
	FollowConnectionID string
	// Spotlight asks for a spotlight channel (spotlight.go); the
	// connection that creates the session decides, with SpotlightNumber
	// (0: DefaultSpotlightNumber). SpotlightFocusRID and
	// SpotlightUnfocusRID ("none", "r0", "r1", "r2"; empty: r2 and r0)
	// are the layers this connection receives of focused and unfocused
	// simulcast publishers.
	Spotlight                              bool
	SpotlightNumber                        int
	SpotlightFocusRID, SpotlightUnfocusRID string
}

// Join admits a connection into its channel (creating the session if the
// channel had none), builds its PeerConnection with receive slots for the
// client's upstream and every track already published by others, and
// starts its goroutines. Errors: ErrBlockedConnection, ErrBlockedSession,
// ErrDuplicate, ErrClosed, or a setup failure.
func (s *SFU) Join(req JoinRequest) (*Connection, error) {
	c, err := s.newConnection(req)
	if err != nil {
		return nil, err
	}
	existing, created, err := s.admit(c)
	if err != nil {
		return nil, errors.Join(err, c.pc.Close())
	}
	if created {
		s.observer.SessionCreated(c.sessionSnapshot())
	}
	c.wg.Add(1)
	go c.negotiate()
	for _, t := range existing {
		c.addForward(t)
	}
	return c, nil
}

func (s *SFU) newConnection(req JoinRequest) (*Connection, error) {
	if !req.Role.Valid() {
		return nil, fmt.Errorf("sfu join: invalid role %q", req.Role)
	}
	if req.VideoCodec == "" {
		req.VideoCodec = s.cfg.DefaultVideoCodec
	}
	if _, err := videoCodec(req.VideoCodec); err != nil {
		return nil, fmt.Errorf("sfu join: %w", err)
	}
	if req.Follow && (req.Role != RecvOnly || req.ClientOffer == "") {
		return nil, fmt.Errorf("sfu join: %w: a following connection is recvonly and offers itself", ErrInvalid)
	}
	if req.Peer == nil || req.ConnectionID == "" {
		return nil, fmt.Errorf("sfu join: connection id %q or peer missing", req.ConnectionID)
	}
	caps, err := newVideoCapabilities(req.CapabilitySDP)
	if err != nil {
		// The capability is a hint: without it every codec is offered
		// and the client's answers say what it refuses.
		s.log.Warn("sfu join: capability sdp ignored", "connection_id", req.ConnectionID, "err", err)
		caps = &videoCapabilities{}
	}
	eng, err := s.engineFor(req)
	if err != nil {
		return nil, fmt.Errorf("sfu join: %w", err)
	}
	log := s.log.With("channel_id", req.ChannelID, "connection_id", req.ConnectionID)
	capi := eng.newAPI(log, &s.counters)
	pc, err := capi.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, fmt.Errorf("sfu join: new peer connection: %w", err)
	}
	if capi.path != nil {
		capi.path.Attach(pc)
	}
	info := ConnectionInfo{ChannelID: req.ChannelID, ConnectionID: req.ConnectionID,
		ClientID: orDefault(req.ClientID, req.ConnectionID), BundleID: orDefault(req.BundleID, req.ConnectionID),
		Role: req.Role, Audio: req.Audio, Video: req.Video, VideoCodec: req.VideoCodec,
		CreatedAt: s.now(), Metadata: req.Metadata, Simulcast: req.Simulcast}
	target := 0
	if req.SimulcastRID != "" {
		if target, err = ParseRID(req.SimulcastRID); err != nil {
			return nil, errors.Join(fmt.Errorf("sfu join: %w", err), pc.Close())
		}
	}
	spotRIDs, err := spotlightRIDs(req)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("sfu join: %w", err), pc.Close())
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &Connection{sfu: s, info: info, peer: req.Peer, pc: pc, api: capi.api, nack: capi.nack, path: capi.path,
		ctx: ctx, cancel: cancel, log: log, caps: caps,
		kick:   make(chan struct{}, 1),
		tracks: make(map[string]*publishedTrack), forwards: make(map[*publishedTrack]*webrtc.RTPTransceiver),
		slotAnswers: make(map[string]*sdp.MediaDescription),
		layered:     make(map[*simulcastSource]*layeredForward), simulcastTarget: target,
		retried: make(map[*publishedTrack]bool), clientOffer: req.ClientOffer,
		spotAsked: req.Spotlight, spotNumber: req.SpotlightNumber, spotConnect: spotRIDs, spotRIDs: spotRIDs}
	if info.PublishesLayers() && req.ClientOffer == "" {
		c.simulcast = &simulcastSource{owner: c}
	}
	if req.Follow {
		err = c.addFollowTracks(req.FollowConnectionID)
	} else {
		err = c.addUpstream()
	}
	if err == nil && req.DataChannelSignaling {
		err = c.addSystemChannels()
	}
	if err == nil {
		err = c.addDataChannels(req.DataChannels)
	}
	if err != nil {
		cancel()
		return nil, errors.Join(err, pc.Close())
	}
	pc.OnTrack(c.onTrack)
	pc.OnConnectionStateChange(c.onStateChange)
	return c, nil
}

// addUpstream adds the receive-only transceivers the client's tracks
// attach to; their mids go into the offer's "mid".
func (c *Connection) addUpstream() error {
	if c.clientOffer != "" && !c.info.Role.Sends() {
		return nil // the client's offer makes the m-lines
	}
	if !c.info.Role.Sends() || (!c.info.Audio && !c.info.Video) {
		// An offer needs one m-line to carry ICE and DTLS. It stays unused
		// for good (the client has nothing to send on it): as the BUNDLE
		// tag it must never be rejected, so no forwarded track may take it
		// (rejection.go).
		if _, err := c.pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio,
			webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			return fmt.Errorf("add placeholder transceiver: %w", err)
		}
		return nil
	}
	recv := webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}
	var err error
	if c.info.Audio {
		if c.audioRecv, err = c.pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio, recv); err != nil {
			return fmt.Errorf("add audio receiver: %w", err)
		}
	}
	if c.info.Video {
		if c.videoRecv, err = c.pc.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo, recv); err != nil {
			return fmt.Errorf("add video receiver: %w", err)
		}
		if c.clientOffer != "" {
			return nil // its engine has the offered format only (engineFor)
		}
		// The client sends its own codec_type only.
		pref, err := upstreamPreference(c.info.VideoCodec)
		if err == nil {
			err = c.videoRecv.SetCodecPreferences(pref)
		}
		if err != nil {
			return fmt.Errorf("video receiver codec: %w", err)
		}
	}
	return nil
}

// engineFor returns the engine a new connection is built with: its
// role's, or for a publisher that offers, one whose only video format is
// the offer's own of the connection's codec.
func (s *SFU) engineFor(req JoinRequest) (*engine, error) {
	eng := s.engines.forRole(req.Role)
	if req.ClientOffer == "" || !req.Role.Sends() || !req.Video {
		return eng, nil
	}
	pref, err := offeredPreference(req.ClientOffer, req.VideoCodec)
	if err != nil {
		return nil, err
	}
	return eng.withVideo(pref)
}

func (c *Connection) onStateChange(st webrtc.PeerConnectionState) {
	c.log.Debug("peer connection state", "state", st.String())
	if st == webrtc.PeerConnectionStateFailed {
		c.peer.Disconnect("CONNECTION-STATE-FAILED")
	}
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
