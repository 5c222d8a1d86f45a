package signaling

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/kiroku-sfu/kiroku/sfu"
)

// Placement decides, in a cluster, whether this node serves a connect's
// channel or where to redirect the client (Sora's "redirect"). Package
// node adapts package cluster to it; without one (Config.Placement nil)
// every channel is served here.
type Placement interface {
	// Place returns "" to serve the connect here (the channel is then
	// held by this node) or the signaling URL to redirect the client to.
	// An error wrapping ErrChannelElsewhere refuses a redirected connect
	// whose channel another node holds; any other error means the
	// cluster cannot decide (NATS unreachable) and refuses a new channel.
	Place(ctx context.Context, req PlaceRequest) (redirect string, err error)
}

// PlaceRequest is one connect's question to the Placement.
type PlaceRequest struct {
	ChannelID string
	// Redirected is the connect's "redirect": true, sent after a
	// redirect; such a client is never redirected again.
	Redirected bool
	// NoNewChannel is set when the mode forbids this node a new channel
	// (block_new_connection, or block_new_session without a session of
	// the channel here): a new channel goes to another node.
	NoNewChannel bool
}

// ErrChannelElsewhere is the Placement's answer to a redirected connect
// whose channel is held by another node.
var ErrChannelElsewhere = errors.New("channel held by another node")

// redirectMessage sends the client to another node before any offer.
type redirectMessage struct {
	Type     string `json:"type"`
	Location string `json:"location"`
}

// place asks the Placement, if any, where the connect belongs. A
// redirect is sent and the WebSocket closed with 1000 REDIRECT; a
// refusal is a 4050 or 4051 rejection.
func (s *session) place(channelID string, raw []byte) *rejection {
	p := s.srv.cfg.Placement
	if p == nil {
		return nil
	}
	var flag struct {
		Redirect bool `json:"redirect"`
	}
	_ = json.Unmarshal(raw, &flag) // parseConnect has accepted raw
	ctx, cancel := context.WithTimeout(s.srv.ctx, s.srv.cfg.ConnectTimeout)
	defer cancel()
	loc, err := p.Place(ctx, PlaceRequest{ChannelID: channelID, Redirected: flag.Redirect,
		NoNewChannel: s.srv.blocksNewChannel(channelID)})
	switch {
	case errors.Is(err, ErrChannelElsewhere):
		return reject(codeChannelElsewhere, "CLUSTER-CHANNEL-ELSEWHERE")
	case err != nil:
		s.log.Warn("cluster placement failed: new channel refused", "channel_id", channelID, "err", err)
		return reject(codeClusterUnavailable, "CLUSTER-UNAVAILABLE")
	case loc != "":
		s.log.Info("redirecting connect", "channel_id", channelID, "location", loc)
		s.send(redirectMessage{Type: "redirect", Location: loc})
		return reject(1000, "REDIRECT")
	}
	return nil
}

// blocksNewChannel reports whether the mode forbids a new channel on
// this node (modeRejection would refuse the connect).
func (srv *Server) blocksNewChannel(channelID string) bool {
	switch srv.sfu.Mode() {
	case sfu.ModeBlockNewConnection:
		return true
	case sfu.ModeBlockNewSession:
		_, err := srv.sfu.Session(channelID)
		return err != nil
	}
	return false
}

// Close codes of a refused placement (package documentation).
const (
	codeClusterUnavailable = 4050
	codeChannelElsewhere   = 4051
)
