package api

import (
	"context"
	"encoding/json"
)

// channelRequest covers the bodies of the channel-scoped methods.
type channelRequest struct {
	ChannelID    string          `json:"channel_id"`
	ConnectionID string          `json:"connection_id"`
	ClientID     string          `json:"client_id"`
	SessionID    string          `json:"session_id"`
	GroupID      string          `json:"group_id"`
	ReceiverID   string          `json:"receiver_connection_id"`
	SenderID     string          `json:"sender_connection_id"`
	RID          string          `json:"rid"`
	Reason       json.RawMessage `json:"reason"`
	Data         json.RawMessage `json:"data"`
}

// reasonText turns a reason given as a string or an object into text.
func (r channelRequest) reasonText() string {
	var s string
	if json.Unmarshal(r.Reason, &s) == nil {
		return s
	}
	return string(r.Reason)
}

// routes maps each x-sora-target to its handler.
func (s *Server) routes() map[string]handler {
	m := map[string]handler{
		"Sora_20211215.ChangeMode":             s.changeMode,
		"Sora_20211215.GetMode":                s.getMode,
		"Sora_20201013.ListConnections":        s.listConnections,
		"Sora_20201013.ListChannelConnections": s.listChannelConnections,
		"Sora_20231220.GetSession":             s.getSession,
		"Sora_20231220.ListSessions":           s.listSessions,
		"Sora_20151104.DisconnectChannel":      s.disconnectChannel,
		"Sora_20151104.DisconnectConnection":   s.disconnectConnection,
		"Sora_20151104.DisconnectClient":       s.disconnectClient,
		"Sora_20160711.PushChannel":            s.pushChannel,
		"Sora_20160711.PushConnection":         s.pushConnection,
		"Sora_20241218.RequestKeyFrame":        s.requestKeyFrame,
		"Sora_20251217.RequestSimulcastRid":    s.requestSimulcastRid,
		"Sora_20230628.TerminateSession":       s.terminateSession,
		"Sora_20171010.GetStatsReport":         s.getStatsReport,
		"Sora_20231220.StartRecording":         s.startRecording,
		"Sora_20231220.StopRecording":          s.stopRecording,
		"Sora_20211215.ListClusterNodes":       s.listClusterNodes,
	}
	for target, h := range s.spotlightRoutes() {
		m[target] = h
	}
	return m
}

func (s *Server) changeMode(_ context.Context, body []byte) (any, error) {
	var req struct {
		Mode Mode `json:"mode"`
	}
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	if !req.Mode.Valid() {
		return nil, badRequest("mode must be normal, block_new_session or block_new_connection, got %q", req.Mode)
	}
	if err := s.backend.SetMode(req.Mode); err != nil {
		return nil, err
	}
	return map[string]Mode{"mode": req.Mode}, nil
}

func (s *Server) getMode(_ context.Context, body []byte) (any, error) {
	if err := decode(body, &struct{}{}); err != nil {
		return nil, err
	}
	return map[string]Mode{"mode": s.backend.Mode()}, nil
}

func (s *Server) listConnections(_ context.Context, body []byte) (any, error) {
	if err := decode(body, &struct{}{}); err != nil {
		return nil, err
	}
	return nonNil(s.backend.Connections("")), nil
}

func (s *Server) listChannelConnections(_ context.Context, body []byte) (any, error) {
	var req channelRequest
	if err := decodeChannel(body, &req); err != nil {
		return nil, err
	}
	return nonNil(s.backend.Connections(req.ChannelID)), nil
}

func (s *Server) getSession(_ context.Context, body []byte) (any, error) {
	var req channelRequest
	if err := decodeChannel(body, &req); err != nil {
		return nil, err
	}
	return s.backend.Session(req.ChannelID, req.SessionID)
}

func (s *Server) listSessions(_ context.Context, body []byte) (any, error) {
	var req struct {
		GroupID string `json:"group_id"`
	}
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	sessions := s.backend.Sessions()
	if sessions == nil {
		sessions = []Session{}
	}
	return sessions, nil
}

func (s *Server) disconnectChannel(ctx context.Context, body []byte) (any, error) {
	var req channelRequest
	if err := decodeChannel(body, &req); err != nil {
		return nil, err
	}
	if err := s.backend.DisconnectChannel(ctx, req.ChannelID, req.reasonText()); err != nil {
		return nil, err
	}
	return map[string]string{"channel_id": req.ChannelID}, nil
}

func (s *Server) disconnectConnection(ctx context.Context, body []byte) (any, error) {
	var req channelRequest
	if err := decodeChannel(body, &req, "connection_id"); err != nil {
		return nil, err
	}
	if err := s.backend.DisconnectConnection(ctx, req.ChannelID, req.ConnectionID, req.reasonText()); err != nil {
		return nil, err
	}
	return map[string]string{"channel_id": req.ChannelID, "connection_id": req.ConnectionID}, nil
}

func (s *Server) disconnectClient(ctx context.Context, body []byte) (any, error) {
	var req channelRequest
	if err := decodeChannel(body, &req, "client_id"); err != nil {
		return nil, err
	}
	if err := s.backend.DisconnectClient(ctx, req.ChannelID, req.ClientID, req.reasonText()); err != nil {
		return nil, err
	}
	return map[string]string{"channel_id": req.ChannelID, "client_id": req.ClientID}, nil
}

func (s *Server) pushChannel(_ context.Context, body []byte) (any, error) {
	var req channelRequest
	if err := decodeChannel(body, &req, "data"); err != nil {
		return nil, err
	}
	if err := s.backend.PushChannel(req.ChannelID, req.Data); err != nil {
		return nil, err
	}
	return map[string]string{"channel_id": req.ChannelID}, nil
}

func (s *Server) pushConnection(_ context.Context, body []byte) (any, error) {
	var req channelRequest
	if err := decodeChannel(body, &req, "connection_id", "data"); err != nil {
		return nil, err
	}
	if err := s.backend.PushConnection(req.ChannelID, req.ConnectionID, req.Data); err != nil {
		return nil, err
	}
	return map[string]string{"channel_id": req.ChannelID, "connection_id": req.ConnectionID}, nil
}

func (s *Server) requestKeyFrame(_ context.Context, body []byte) (any, error) {
	var req channelRequest
	if err := decodeChannel(body, &req, "connection_id"); err != nil {
		return nil, err
	}
	if err := s.backend.RequestKeyFrame(req.ChannelID, req.ConnectionID); err != nil {
		return nil, err
	}
	return map[string]string{"channel_id": req.ChannelID, "connection_id": req.ConnectionID}, nil
}

// requestSimulcastRid moves a receiver to another simulcast layer of one
// sender, or of every sender when sender_connection_id is absent.
func (s *Server) requestSimulcastRid(_ context.Context, body []byte) (any, error) {
	var req channelRequest
	if err := decodeChannel(body, &req, "receiver_connection_id", "rid"); err != nil {
		return nil, err
	}
	if err := s.backend.RequestSimulcastRID(req.ChannelID, req.ReceiverID, req.SenderID, req.RID); err != nil {
		return nil, err
	}
	out := map[string]string{"channel_id": req.ChannelID, "receiver_connection_id": req.ReceiverID, "rid": req.RID}
	if req.SenderID != "" {
		out["sender_connection_id"] = req.SenderID
	}
	return out, nil
}

func (s *Server) terminateSession(ctx context.Context, body []byte) (any, error) {
	var req channelRequest
	if err := decodeChannel(body, &req, "session_id"); err != nil {
		return nil, err
	}
	if err := s.backend.TerminateSession(ctx, req.ChannelID, req.SessionID); err != nil {
		return nil, err
	}
	return map[string]string{"channel_id": req.ChannelID, "session_id": req.SessionID}, nil
}

func (s *Server) getStatsReport(_ context.Context, body []byte) (any, error) {
	if err := decode(body, &struct{}{}); err != nil {
		return nil, err
	}
	return s.backend.StatsReport(), nil
}

func (s *Server) startRecording(ctx context.Context, body []byte) (any, error) {
	if s.recorder == nil {
		return nil, badRequest("recording is not available on this server")
	}
	var req StartRecordingRequest
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	if err := required([2]string{"channel_id", req.ChannelID}); err != nil {
		return nil, err
	}
	return s.recorder.StartRecording(ctx, req)
}

func (s *Server) stopRecording(ctx context.Context, body []byte) (any, error) {
	if s.recorder == nil {
		return nil, badRequest("recording is not available on this server")
	}
	var req struct {
		ChannelID string `json:"channel_id"`
	}
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	if err := required([2]string{"channel_id", req.ChannelID}); err != nil {
		return nil, err
	}
	return s.recorder.StopRecording(ctx, req.ChannelID)
}

// decodeChannel decodes a channel-scoped body and checks that channel_id
// and the named extra fields are present.
func decodeChannel(body []byte, req *channelRequest, extra ...string) error {
	if err := decode(body, req); err != nil {
		return err
	}
	checks := [][2]string{{"channel_id", req.ChannelID}}
	for _, name := range extra {
		value := map[string]string{"connection_id": req.ConnectionID, "client_id": req.ClientID,
			"session_id": req.SessionID, "data": string(req.Data), "receiver_connection_id": req.ReceiverID,
			"rid": req.RID}[name]
		if name == "data" && value == "null" {
			value = ""
		}
		checks = append(checks, [2]string{name, value})
	}
	return required(checks...)
}

func nonNil(c []Connection) []Connection {
	if c == nil {
		return []Connection{}
	}
	return c
}
