package ingestbench

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// janusReply is a Janus API message (a reply or an event); the fields
// this client reads.
type janusReply struct {
	Janus       string `json:"janus"`
	Transaction string `json:"transaction"`
	Sender      uint64 `json:"sender"`
	Data        struct {
		ID uint64 `json:"id"`
	} `json:"data"`
	PluginData struct {
		Plugin string          `json:"plugin"`
		Data   json.RawMessage `json:"data"`
	} `json:"plugindata"`
	JSEP  *jsep `json:"jsep"`
	Error *struct {
		Code   int    `json:"code"`
		Reason string `json:"reason"`
	} `json:"error"`
}

// jsep is a session description as Janus carries it.
type jsep struct {
	Type string `json:"type"`
	SDP  string `json:"sdp"`
}

// janusAPI calls one Janus server's HTTP API (janus.transport.http).
type janusAPI struct {
	base   string // http://host:port/janus
	admin  string // http://host:port/admin
	secret string // admin_secret
	client *http.Client
}

// post sends body (with a new transaction) to base+path and returns the
// reply; a Janus "error" reply is an error.
func (a *janusAPI) post(ctx context.Context, url string, body map[string]any) (janusReply, error) {
	tx := make([]byte, 8)
	_, _ = rand.Read(tx)
	body["transaction"] = hex.EncodeToString(tx)
	raw, err := json.Marshal(body)
	if err != nil {
		return janusReply{}, fmt.Errorf("janus: encode: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(raw))
	if err != nil {
		return janusReply{}, fmt.Errorf("janus: %w", err)
	}
	req.Header.Set("content-type", "application/json")
	return a.do(req, fmt.Sprint(body["janus"]))
}

func (a *janusAPI) do(req *http.Request, what string) (janusReply, error) {
	resp, err := a.client.Do(req)
	if err != nil {
		return janusReply{}, fmt.Errorf("janus %s: %w", what, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil || resp.StatusCode != http.StatusOK {
		return janusReply{}, fmt.Errorf("janus %s: status %d: %s (%v)", what, resp.StatusCode, raw, err)
	}
	var r janusReply
	if err := json.Unmarshal(raw, &r); err != nil {
		return r, fmt.Errorf("janus %s: %w: %s", what, err, raw)
	}
	if r.Janus == "error" || r.Error != nil {
		return r, fmt.Errorf("janus %s: error reply: %s", what, raw)
	}
	return r, nil
}

// createSession creates a session and returns its id.
func (a *janusAPI) createSession(ctx context.Context) (uint64, error) {
	r, err := a.post(ctx, a.base, map[string]any{"janus": "create"})
	return r.Data.ID, err
}

// attach attaches the VideoRoom plugin to session and returns the handle.
func (a *janusAPI) attach(ctx context.Context, session uint64) (uint64, error) {
	r, err := a.post(ctx, fmt.Sprintf("%s/%d", a.base, session),
		map[string]any{"janus": "attach", "plugin": "janus.plugin.videoroom"})
	return r.Data.ID, err
}

// message sends a plugin request (with an optional jsep) to a handle; for
// a synchronous request the reply holds the plugin's answer, otherwise it
// is an "ack" and the answer comes as an event.
func (a *janusAPI) message(ctx context.Context, session, handle uint64, body map[string]any, j *jsep) (janusReply, error) {
	m := map[string]any{"janus": "message", "body": body}
	if j != nil {
		m["jsep"] = j
	}
	return a.post(ctx, fmt.Sprintf("%s/%d/%d", a.base, session, handle), m)
}

// keepalive keeps session alive (session_timeout).
func (a *janusAPI) keepalive(ctx context.Context, session uint64) error {
	_, err := a.post(ctx, fmt.Sprintf("%s/%d", a.base, session), map[string]any{"janus": "keepalive"})
	return err
}

// destroy ends a session.
func (a *janusAPI) destroy(ctx context.Context, session uint64) error {
	_, err := a.post(ctx, fmt.Sprintf("%s/%d", a.base, session), map[string]any{"janus": "destroy"})
	return err
}

// poll long-polls session for its next event (a "keepalive" after 30 s
// without one).
func (a *janusAPI) poll(ctx context.Context, session uint64) (janusReply, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/%d?maxev=1", a.base, session), nil)
	if err != nil {
		return janusReply{}, fmt.Errorf("janus: %w", err)
	}
	return a.do(req, "poll")
}

// handleInfo is the admin API's handle_info of a handle, as raw JSON.
func (a *janusAPI) handleInfo(ctx context.Context, session, handle uint64) (json.RawMessage, error) {
	raw, err := json.Marshal(map[string]any{"janus": "handle_info", "transaction": "info", "admin_secret": a.secret})
	if err != nil {
		return nil, fmt.Errorf("janus handle_info: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, fmt.Sprintf("%s/%d/%d", a.admin, session, handle), bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("janus handle_info: %w", err)
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("janus handle_info: %w", err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil || resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("janus handle_info: status %d (%v): %s", resp.StatusCode, err, out)
	}
	return out, nil
}

// inPackets adds up the RTP packets received on every media of a
// handle_info reply (Janus 1.1: info.webrtc.media.MID.stats.in.packets).
func inPackets(info []byte) (uint64, error) {
	var r struct {
		Info struct {
			WebRTC struct {
				Media map[string]struct {
					Stats struct {
						In struct {
							Packets *uint64 `json:"packets"`
						} `json:"in"`
					} `json:"stats"`
				} `json:"media"`
			} `json:"webrtc"`
		} `json:"info"`
	}
	if err := json.Unmarshal(info, &r); err != nil {
		return 0, fmt.Errorf("janus handle_info: %w", err)
	}
	var total uint64
	for _, m := range r.Info.WebRTC.Media {
		if m.Stats.In.Packets == nil {
			return 0, errors.New("janus handle_info: a media without stats.in.packets")
		}
		total += *m.Stats.In.Packets
	}
	if len(r.Info.WebRTC.Media) == 0 {
		return 0, errors.New("janus handle_info: no media")
	}
	return total, nil
}
