package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/kiroku-sfu/kiroku/api"
	"github.com/kiroku-sfu/kiroku/relay"
	"github.com/kiroku-sfu/kiroku/sfu"
	"github.com/kiroku-sfu/kiroku/signaling"
	"github.com/kiroku-sfu/kiroku/webhooks"
)

// apiBackend adapts the SFU, the signaling server and the webhook client
// to the HTTP API's Backend.
type apiBackend struct {
	core  *sfu.SFU
	sig   *signaling.Server
	hooks *webhooks.Client
	rec   recorderAPI     // the running recordings, for session objects
	info  webhooks.Config // label, node name and version for session objects
	turn  *relay.Server   // the built-in TURN server; nil when turn is off
	// external is this node's external_signaling_url in a cluster, "" alone.
	external string
}

var _ api.Backend = (*apiBackend)(nil)

// disconnectReason is the close reason of every API disconnect.
const disconnectReason = "DISCONNECTED-API"

// apiError maps the SFU's errors to the API's statuses.
func apiError(err error) error {
	if errors.Is(err, sfu.ErrNotFound) {
		return fmt.Errorf("%w: %w", api.ErrNotFound, err)
	}
	return err
}

// Mode implements api.Backend.
func (b *apiBackend) Mode() api.Mode { return api.Mode(b.core.Mode()) }

// SetMode implements api.Backend; an unknown mode is invalid.
func (b *apiBackend) SetMode(m api.Mode) error {
	if err := b.core.SetMode(sfu.Mode(m)); err != nil {
		return fmt.Errorf("%w: %w", api.ErrInvalid, err)
	}
	return nil
}

// Connections lists one channel's connections, or all for "".
func (b *apiBackend) Connections(channelID string) []api.Connection {
	infos := b.core.Connections()
	if channelID != "" {
		infos = b.core.ChannelConnections(channelID)
	}
	out := make([]api.Connection, 0, len(infos))
	for _, ci := range infos {
		out = append(out, apiConnection(ci))
	}
	return out
}

func apiConnection(ci sfu.ConnectionInfo) api.Connection {
	c := api.Connection{Role: string(ci.Role), ChannelID: ci.ChannelID, SessionID: ci.SessionID,
		ClientID: ci.ClientID, BundleID: ci.BundleID, ConnectionID: ci.ConnectionID, Multistream: true,
		Simulcast: ci.Simulcast, Spotlight: ci.Spotlight, Audio: ci.Audio, Video: ci.Video, ConnectionCreatedTimestamp: webhooks.Timestamp(ci.CreatedAt)}
	ex := signaling.ExtrasOf(ci)
	if ci.Audio {
		c.AudioCodecType, c.AudioBitRate = "OPUS", ex.Media.AudioBitRate
	}
	if ci.Video {
		c.VideoCodecType, c.VideoBitRate = string(ci.VideoCodec), ex.Media.VideoBitRate
		c.VideoVP9Params, c.VideoAV1Params, c.VideoH264Params = ex.Media.VideoVP9Params, ex.Media.VideoAV1Params, ex.Media.VideoH264Params
	}
	c.RecordingBlock = ex.RecordingBlock
	c.ClientAddress = signaling.ClientAddressOf(ci)
	return c
}

// sessionConnections lists a session's connections: those that left it,
// with their connection_destroyed_timestamp, then the live ones.
func (b *apiBackend) sessionConnections(s sfu.SessionInfo) []api.Connection {
	live := b.Connections(s.ChannelID)
	gone := b.sig.DepartedConnections(s.SessionID)
	out := make([]api.Connection, 0, len(gone)+len(live))
	for _, d := range gone {
		c := apiConnection(d.Info)
		ts := webhooks.Timestamp(d.DestroyedAt)
		c.ConnectionDestroyedTimestamp = &ts
		out = append(out, c)
	}
	return append(out, live...)
}

// Sessions lists the live sessions with their connections.
func (b *apiBackend) Sessions() []api.Session {
	var out []api.Session
	for _, s := range b.core.Sessions() {
		out = append(out, b.apiSession(s))
	}
	return out
}

func (b *apiBackend) apiSession(s sfu.SessionInfo) api.Session {
	return api.Session{Label: b.info.Label, NodeName: b.info.NodeName, Version: b.info.Version,
		ChannelID: s.ChannelID, SessionID: s.SessionID, SessionMetadata: s.Metadata, CreatedTime: s.CreatedAt.Unix(),
		CreatedTimestamp: webhooks.Timestamp(s.CreatedAt), Multistream: true, Spotlight: s.Spotlight,
		MaxConnections: s.MaxConnections, TotalConnections: s.TotalConnections,
		Connections: b.sessionConnections(s), Recording: b.rec.recording(s.ChannelID), ExternalSignalingURL: b.external}
}

// Session returns a channel's live session, checking sessionID if given.
func (b *apiBackend) Session(channelID, sessionID string) (api.Session, error) {
	s, err := b.core.Session(channelID)
	if err != nil {
		return api.Session{}, apiError(err)
	}
	if sessionID != "" && s.SessionID != sessionID {
		return api.Session{}, fmt.Errorf("%w: session %q of channel %q", api.ErrNotFound, sessionID, channelID)
	}
	return b.apiSession(s), nil
}

// DisconnectChannel closes a channel's connections with DISCONNECTED-API;
// reason goes to their connection.destroyed webhooks.
func (b *apiBackend) DisconnectChannel(_ context.Context, channelID, reason string) error {
	b.noteReason(channelID, reason, func(sfu.ConnectionInfo) bool { return true })
	return apiError(b.core.DisconnectChannel(channelID, disconnectReason))
}

// DisconnectConnection closes one connection with DISCONNECTED-API.
func (b *apiBackend) DisconnectConnection(_ context.Context, channelID, connectionID, reason string) error {
	b.noteReason(channelID, reason, func(ci sfu.ConnectionInfo) bool { return ci.ConnectionID == connectionID })
	return apiError(b.core.DisconnectConnection(channelID, connectionID, disconnectReason))
}

// DisconnectClient closes a client_id's connections with DISCONNECTED-API.
func (b *apiBackend) DisconnectClient(_ context.Context, channelID, clientID, reason string) error {
	b.noteReason(channelID, reason, func(ci sfu.ConnectionInfo) bool { return ci.ClientID == clientID })
	return apiError(b.core.DisconnectClient(channelID, clientID, disconnectReason))
}

// noteReason hands the API's reason to signaling for the channel's
// connections that match.
func (b *apiBackend) noteReason(channelID, reason string, match func(sfu.ConnectionInfo) bool) {
	if reason == "" {
		return
	}
	for _, ci := range b.core.ChannelConnections(channelID) {
		if match(ci) {
			b.sig.NoteDisconnectReason(channelID, ci.ConnectionID, reason)
		}
	}
}

// PushChannel pushes data to every connection of a channel.
func (b *apiBackend) PushChannel(channelID string, data json.RawMessage) error {
	return apiError(b.core.PushChannel(channelID, data))
}

// PushConnection pushes data to one connection.
func (b *apiBackend) PushConnection(channelID, connectionID string, data json.RawMessage) error {
	return apiError(b.core.PushConnection(channelID, connectionID, data))
}

// RequestSimulcastRID moves a receiver to another simulcast layer.
func (b *apiBackend) RequestSimulcastRID(channelID, receiverID, senderID, rid string) error {
	err := b.core.RequestSimulcastRID(channelID, receiverID, senderID, rid)
	if errors.Is(err, sfu.ErrInvalid) {
		return fmt.Errorf("%w: %w", api.ErrInvalid, err)
	}
	return apiError(err)
}

// RequestKeyFrame asks a publisher for keyframes.
func (b *apiBackend) RequestKeyFrame(channelID, connectionID string) error {
	return apiError(b.core.RequestKeyFrame(channelID, connectionID))
}

// TerminateSession closes every connection of the session.
func (b *apiBackend) TerminateSession(_ context.Context, channelID, sessionID string) error {
	return apiError(b.core.TerminateSession(channelID, sessionID, disconnectReason))
}

// StatsReport returns the GetStatsReport counters kiroku keeps, under
// Sora's names.
func (b *apiBackend) StatsReport() map[string]any {
	st, sg := b.core.Stats(), b.sig.Stats()
	r := map[string]any{
		"version":                       b.info.Version,
		"total_connection_created":      st.ConnectionsCreated,
		"total_connection_destroyed":    st.ConnectionsDestroyed,
		"total_ongoing_connections":     st.OngoingConnections,
		"total_successful_connections":  sg.Established,
		"total_failed_connections":      sg.Rejected,
		"total_session_created":         st.SessionsCreated,
		"total_session_destroyed":       st.SessionsDestroyed,
		"total_received_srtp":           st.ReceivedRTPPackets,
		"total_received_srtp_byte_size": st.ReceivedRTPBytes,
		"total_sent_srtp":               st.ForwardedRTPPackets,
		"total_sent_srtp_byte_size":     st.ForwardedRTPBytes,
		// kiroku's own: how connections send their SRTP (sfu/srtpout).
		"total_direct_srtp_connections": st.DirectSRTPConnections,
		"total_pion_srtp_connections":   st.PionSRTPConnections,
		// kiroku's own: how publishing connections receive their SRTP
		// (direct_srtp_receive) and the packets received directly.
		"total_direct_srtp_receive_connections": st.DirectSRTPReceiveConnections,
		"total_pion_srtp_receive_connections":   st.PionSRTPReceiveConnections,
		"total_direct_received_srtp":            st.DirectRTPPackets,
		// kiroku's own: batched reads of the shared UDP sockets outside
		// Go's poller, the datagrams they returned and the coalescing
		// intervals slept (udp_receive_coalesce).
		"total_udp_batch_reads":     st.UDPBatchReads,
		"total_udp_batch_datagrams": st.UDPBatchDatagrams,
		"total_udp_receive_polls":   st.UDPReceivePolls,
		// kiroku's own: client packets that could not be read, skipped.
		"total_malformed_packets": st.MalformedPackets,
		// kiroku's own: video streams a receiver could not decode, not
		// forwarded to it; simulcast packets forwarded without renumbering.
		"total_refused_streams":        st.RefusedStreams,
		"total_unreadable_descriptors": st.UnreadableDescriptors,
		"timestamp":                    webhooks.Timestamp(time.Now()),
	}
	var turn relay.Stats
	if b.turn != nil {
		turn = b.turn.Stats()
	}
	r["total_turn_udp_connections"], r["total_turn_tcp_connections"] = turn.UDPAllocations, turn.TCPAllocations
	// kiroku's own: datagrams the TURN server's relays and the SFU handed
	// each other in memory, and those dropped for a receiver behind.
	r["total_turn_memory_datagrams"], r["total_turn_memory_dropped_datagrams"] = turn.MemoryDatagrams, turn.MemoryDropped
	for _, kind := range []webhooks.Kind{webhooks.Auth, webhooks.Session, webhooks.Event} {
		c := b.hooks.Stats().Snapshot(kind)
		r["total_successful_"+string(kind)+"_webhook"] = c.Successful
		r["total_failed_"+string(kind)+"_webhook"] = c.Failed
		r["total_ignored_"+string(kind)+"_webhook"] = c.Ignored
	}
	return r
}
