package signaling

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/gorilla/websocket"

	"github.com/kiroku-sfu/kiroku/sfu"
)

// connect validates, authenticates and joins the client, then sends the
// offer.
func (s *session) connect(raw []byte) *rejection {
	req, rej := parseConnect(raw, "")
	if rej != nil {
		return rej
	}
	if rej := s.place(req.msg.ChannelID, raw); rej != nil {
		return rej
	}
	if rej := s.srv.modeRejection(req.msg.ChannelID); rej != nil {
		return rej
	}
	id := sfu.NewID()
	res, rej := s.authenticate(req, id, raw)
	if rej != nil {
		return rej
	}
	if rej := req.apply(res); rej != nil {
		return rej
	}
	s.ignoreWS = req.ignoreWS // read by DataChannel callbacks once joined
	m := req.msg
	conn, err := s.srv.sfu.Join(sfu.JoinRequest{
		ChannelID: m.ChannelID, ConnectionID: id,
		ClientID: orDefault(res.ClientID, m.ClientID), BundleID: orDefault(res.BundleID, m.BundleID),
		Role: req.role, Audio: req.audio, Video: req.video, VideoCodec: sfu.Codec(orDefault(string(res.VideoCodec), string(req.videoCodec))),
		CapabilitySDP: m.SDP,
		Metadata: &participant{authn: m.Metadata, authz: res.Metadata,
			notify: orRaw(res.SignalingNotifyMetadata, m.SignalingNotifyMetadata),
			extras: Extras{EventMetadata: res.EventMetadata, RecordingBlock: res.RecordingBlock, Media: req.media}, clientAddr: s.clientAddr},
		Peer:                 s,
		DataChannels:         req.channels,
		DataChannelSignaling: req.dcSignal,
		Simulcast:            m.Simulcast,
		SimulcastRID:         req.rid,
		Spotlight:            m.Spotlight, SpotlightNumber: m.SpotlightNumber,
		SpotlightFocusRID: m.SpotlightFocusRID, SpotlightUnfocusRID: m.SpotlightUnfocusRID,
	})
	if err != nil {
		return joinRejection(err)
	}
	s.conn = conn
	if !s.srv.add(s) {
		return reject(1000, "SHUTDOWN")
	}
	s.srv.awaitSession(conn.Info())
	return s.sendOffer(req, res)
}

func (s *session) authenticate(req *connectRequest, id string, raw []byte) (AuthResult, *rejection) {
	m := req.msg
	ctx, cancel := s.authContext()
	defer cancel()
	channels, _ := json.Marshal(m.DataChannels)
	if m.DataChannels == nil {
		channels = nil
	}
	res, err := s.srv.auth.Authenticate(ctx, AuthRequest{
		ChannelID: m.ChannelID, ConnectionID: id, ClientID: m.ClientID, BundleID: m.BundleID,
		Role: req.role, Audio: req.audio, Video: req.video, VideoCodec: req.videoCodec, Simulcast: m.Simulcast,
		Metadata: m.Metadata, SoraClient: m.SoraClient, Environment: m.Environment, Connect: raw,
		Media: req.media, SimulcastRID: req.rid, DataChannelSignaling: req.dcSignal,
		Spotlight:                 SpotlightOptions{On: m.Spotlight, Number: m.SpotlightNumber, FocusRID: m.SpotlightFocusRID, UnfocusRID: m.SpotlightUnfocusRID},
		IgnoreDisconnectWebSocket: req.ignoreWS, DataChannels: channels, Libwebrtc: m.Libwebrtc,
		ClientAddress: s.clientAddr,
	})
	if err != nil {
		s.log.Warn("authentication failed", "err", err)
		return res, reject(codeAuthError, "AUTH-WEBHOOK-ERROR")
	}
	if !res.Allowed {
		reason := res.Reason
		if reason == "" {
			reason = "AUTH-DENIED"
		}
		return res, reject(codeAuthDenied, reason)
	}
	if !validID(res.ClientID, true) || !validID(res.BundleID, true) {
		return res, reject(codeAuthError, "AUTH-WEBHOOK-ERROR")
	}
	return res, nil
}

// modeRejection refuses a connect the admission mode blocks before the
// authenticator is asked, so a blocked node puts no load on the auth
// webhook. Join checks again, as the mode or the session may change
// while the authenticator answers.
func (srv *Server) modeRejection(channelID string) *rejection {
	switch srv.sfu.Mode() {
	case sfu.ModeBlockNewConnection:
		return reject(codeBlockedConn, "BLOCKED-NEW-CONNECTION")
	case sfu.ModeBlockNewSession:
		if _, err := srv.sfu.Session(channelID); err != nil {
			return reject(codeBlockedSession, "BLOCKED-NEW-SESSION")
		}
	}
	return nil
}

// apply makes the authenticator's overrides the connection's settings.
func (req *connectRequest) apply(res AuthResult) *rejection {
	if res.Audio != nil {
		req.audio = *res.Audio
	}
	if res.Video != nil {
		req.video = *res.Video
	}
	req.media = req.media.override(res.Media)
	if res.Simulcast != nil {
		req.msg.Simulcast = *res.Simulcast
	}
	if res.SimulcastRID != "" {
		if !validRID(res.SimulcastRID) {
			return reject(codeAuthError, "AUTH-WEBHOOK-ERROR")
		}
		req.rid = res.SimulcastRID
	}
	if res.DataChannelSignaling != nil {
		req.dcSignal = *res.DataChannelSignaling
	}
	if res.IgnoreDisconnectWebSocket != nil {
		req.ignoreWS = *res.IgnoreDisconnectWebSocket
	}
	req.ignoreWS = req.ignoreWS && req.dcSignal
	res.Spotlight.apply(&req.msg)
	return nil
}

func joinRejection(err error) *rejection {
	switch {
	case errors.Is(err, sfu.ErrBlockedConnection):
		return reject(codeBlockedConn, "BLOCKED-NEW-CONNECTION")
	case errors.Is(err, sfu.ErrBlockedSession):
		return reject(codeBlockedSession, "BLOCKED-NEW-SESSION")
	case errors.Is(err, sfu.ErrClosed):
		return reject(1000, "SHUTDOWN")
	}
	return reject(codeInternal, "INTERNAL-ERROR")
}

// peerConfig is the offer's config: the configured ICE servers and, with
// a built-in TURN server, that server with the connection's credentials
// and relay-only transport.
func (s *session) peerConfig(connectionID string) (peerConfig, error) {
	servers, user, err := s.srv.iceServersFor(connectionID)
	if err != nil {
		return peerConfig{}, err
	}
	if user == "" {
		return peerConfig{ICEServers: servers, ICETransportPolicy: "all"}, nil
	}
	s.turnUser = user
	return peerConfig{ICEServers: servers, ICETransportPolicy: "relay"}, nil
}

func (s *session) sendOffer(req *connectRequest, res AuthResult) *rejection {
	ctx, cancel := context.WithTimeout(s.srv.ctx, s.srv.cfg.ConnectTimeout)
	defer cancel()
	sdp, audioMid, videoMid, err := s.conn.Offer(ctx)
	if err != nil {
		s.log.Warn("build offer", "err", err)
		return reject(codeInternal, "INTERNAL-ERROR")
	}
	info := s.conn.Info()
	peerCfg, err := s.peerConfig(info.ConnectionID)
	if err != nil {
		s.log.Warn("turn credentials", "err", err)
		return reject(codeInternal, "INTERNAL-ERROR")
	}
	mid := map[string]string{}
	if audioMid != "" {
		mid["audio"] = audioMid
	}
	if videoMid != "" {
		mid["video"] = videoMid
	}
	offer := offerMessage{
		Type: "offer", SDP: sdp, Version: s.srv.cfg.Version,
		ChannelID: info.ChannelID, SessionID: info.SessionID, ConnectionID: info.ConnectionID,
		ClientID: info.ClientID, BundleID: info.BundleID, Metadata: res.Metadata,
		Config:       peerCfg,
		Mid:          mid,
		DataChannels: offerDataChannels(req.dcSignal, s.conn.DataChannels()), Multistream: true,
		DCSignaling: req.dcSignal, IgnoreWS: req.ignoreWS,
		Audio: req.audio, Video: req.video, VideoCodecType: string(info.VideoCodec),
		// A simulcast publisher is asked for the layers; a simulcast
		// viewer just gets one of each publisher.
		Simulcast: info.Simulcast,
		Spotlight: info.Spotlight,
	}
	if info.PublishesLayers() {
		offer.Encodings = simulcastEncodings()
	}
	if req.dcSignal {
		offer.RPCMethods = rpcMethods()
	}
	if req.audio {
		offer.AudioCodecType, offer.AudioBitRate = "OPUS", req.media.AudioBitRate
	}
	if req.video {
		offer.VideoBitRate = req.media.VideoBitRate
	}
	s.send(offer)
	if res.Lifetime > 0 {
		s.lifeTimer = time.AfterFunc(res.Lifetime, func() {
			s.closeWith(websocket.CloseNormalClosure, "LIFETIME-EXPIRED")
		})
	}
	s.answerTimer = time.AfterFunc(s.srv.cfg.AnswerTimeout, func() {
		if !s.answered.Load() {
			s.closeWith(codeAnswerTimeout, "ANSWER-TIMEOUT")
		}
	})
	return nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func orRaw(v, def json.RawMessage) json.RawMessage {
	if len(v) == 0 {
		return def
	}
	return v
}
