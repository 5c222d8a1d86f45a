package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// Forwarder carries API calls between the nodes of a cluster (package
// cluster, adapted by node). Without one (Config.Forwarder nil) the
// server answers everything itself.
type Forwarder interface {
	// Forward sends a channel-scoped call to the node holding channelID
	// and returns its status and body. forwarded is false when this
	// node holds the channel or nobody does: the call is answered here.
	Forward(ctx context.Context, channelID, target string, body []byte) (status int, reply []byte, forwarded bool, err error)
	// Gather sends a call to every other node and returns their bodies;
	// missing names the nodes that did not answer in time.
	Gather(ctx context.Context, target string, body []byte) (replies [][]byte, missing []string, err error)
	// Nodes lists the cluster's nodes (ListClusterNodes).
	Nodes(ctx context.Context) ([]ClusterNode, error)
}

// ClusterNode is one node as ListClusterNodes reports it.
type ClusterNode struct {
	NodeName             string    `json:"node_name"`
	ExternalSignalingURL string    `json:"external_signaling_url"`
	Mode                 string    `json:"mode"`
	Connections          int       `json:"connections"`
	Channels             int       `json:"channels"`
	Version              string    `json:"version"`
	UpdatedAt            time.Time `json:"updated_at"`
}

// UnansweredNodesHeader is set on a gathered list (ListSessions,
// ListConnections) to the comma-separated names of the nodes whose part
// is missing because they did not answer in time; "*" when the node
// registry itself could not be read. The body stays Sora's array.
const UnansweredNodesHeader = "X-Kiroku-Unanswered-Nodes"

// forwardedTargets are the channel-scoped methods answered by the node
// that holds the channel.
var forwardedTargets = map[string]bool{
	"Sora_20231220.StartRecording": true, "Sora_20231220.StopRecording": true,
	"Sora_20231220.GetSession": true, "Sora_20201013.ListChannelConnections": true,
	"Sora_20151104.DisconnectChannel": true, "Sora_20151104.DisconnectConnection": true,
	"Sora_20151104.DisconnectClient": true, "Sora_20160711.PushChannel": true,
	"Sora_20160711.PushConnection": true, "Sora_20241218.RequestKeyFrame": true,
	"Sora_20251217.RequestSimulcastRid": true, "Sora_20230628.TerminateSession": true,
	// Spotlight's methods act on the channel's focus, which its node holds.
	"Sora_20200807.FocusSpotlightFixed": true, "Sora_20200807.FocusSpotlight": true,
	"Sora_20200807.UnfocusSpotlight": true, "Sora_20200807.ChangeSpotlightNumber": true,
	"Sora_20211215.RequestSpotlightRid": true, "Sora_20211215.ResetSpotlightRid": true,
	"Sora_20211215.BatchRequestSpotlightRid": true,
}

// gatheredTargets are the node-wide lists every node contributes to.
var gatheredTargets = map[string]bool{
	"Sora_20231220.ListSessions": true, "Sora_20201013.ListConnections": true,
}

// localOnly marks a request forwarded by another node: it is answered
// here, never forwarded again.
type localOnly struct{}

// ServeForwarded answers a call another node forwarded, exactly as this
// node answers its own HTTP clients, and returns the status and body.
func (s *Server) ServeForwarded(ctx context.Context, target string, body []byte) (int, []byte) {
	r, err := http.NewRequestWithContext(context.WithValue(ctx, localOnly{}, true), http.MethodPost, "/", bytes.NewReader(body))
	if err != nil {
		return http.StatusInternalServerError, []byte(`{"error_type":"internal_error","error_reason":"forwarded request"}`)
	}
	r.Header.Set("x-sora-target", target)
	r.RemoteAddr = "cluster"
	w := &replyRecorder{header: http.Header{}}
	s.ServeHTTP(w, r)
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.status, w.body.Bytes()
}

// replyRecorder is the http.ResponseWriter of a forwarded call: it keeps
// the status and body for the reply over NATS.
type replyRecorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *replyRecorder) Header() http.Header { return r.header }

func (r *replyRecorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *replyRecorder) Write(p []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(p)
}

// forward answers a call the cluster must answer: a channel-scoped call
// for a channel another node holds gets that node's reply, a gathered
// list gets every node's part. handled is false when the call is this
// node's alone.
func (s *Server) forward(w http.ResponseWriter, r *http.Request, target string, h handler, body []byte) (status int, handled bool) {
	f := s.forwarder
	if f == nil || r.Context().Value(localOnly{}) != nil {
		return 0, false
	}
	switch {
	case forwardedTargets[target]:
		return s.forwardChannel(w, r.Context(), target, body)
	case gatheredTargets[target]:
		return s.gather(w, r.Context(), target, h, body), true
	}
	return 0, false
}

func (s *Server) forwardChannel(w http.ResponseWriter, ctx context.Context, target string, body []byte) (int, bool) {
	var req struct {
		ChannelID string `json:"channel_id"`
	}
	if json.Unmarshal(body, &req) != nil || req.ChannelID == "" {
		return 0, false // answered here: the handler explains the 400
	}
	status, reply, forwarded, err := s.forwarder.Forward(ctx, req.ChannelID, target, body)
	if err != nil {
		return writeError(w, &apiError{status: http.StatusServiceUnavailable, typ: "cluster_unavailable",
			reason: err.Error()}), true
	}
	if !forwarded {
		return 0, false
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(reply)
	return status, true
}

// gather answers a node-wide list with this node's entries followed by
// every other node's, naming in UnansweredNodesHeader those missing.
func (s *Server) gather(w http.ResponseWriter, ctx context.Context, target string, h handler, body []byte) int {
	local, err := h(ctx, body)
	if err != nil {
		return writeError(w, err)
	}
	items, err := asItems(local)
	if err != nil {
		return writeError(w, err)
	}
	replies, missing, err := s.forwarder.Gather(ctx, target, body)
	if err != nil {
		s.logger.Warn("api: gathering from the cluster", "target", target, "err", err)
		missing = []string{"*"}
	}
	for _, reply := range replies {
		var more []json.RawMessage
		if json.Unmarshal(reply, &more) == nil {
			items = append(items, more...)
		}
	}
	if len(missing) > 0 {
		w.Header().Set(UnansweredNodesHeader, strings.Join(missing, ","))
	}
	writeJSON(w, http.StatusOK, items)
	return http.StatusOK
}

// asItems turns a local list reply into its JSON elements.
func asItems(v any) ([]json.RawMessage, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	items := []json.RawMessage{}
	if err := json.Unmarshal(data, &items); err != nil {
		return nil, err
	}
	return items, nil
}

// listClusterNodes answers Sora_20211215.ListClusterNodes from the
// registry; a node outside a cluster answers 400.
func (s *Server) listClusterNodes(ctx context.Context, body []byte) (any, error) {
	if err := decode(body, &struct{}{}); err != nil {
		return nil, err
	}
	if s.forwarder == nil {
		return nil, badRequest("this node is not in a cluster (cluster = false)")
	}
	nodes, err := s.forwarder.Nodes(ctx)
	if err != nil {
		return nil, &apiError{status: http.StatusServiceUnavailable, typ: "cluster_unavailable", reason: err.Error()}
	}
	if nodes == nil {
		nodes = []ClusterNode{}
	}
	return nodes, nil
}
