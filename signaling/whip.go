package signaling

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/kiroku-sfu/kiroku/sfu"
)

// WHIP (RFC 9725) and WHEP on the signaling port:
//
//	POST   /whip/{channel_id}     offer of a sendonly publisher → 201 + answer
//	POST   /whep/{channel_id}     offer of a recvonly player    → 201 + answer
//	PATCH  /whip-resource/{id}    trickle ICE or ICE restart (application/trickle-ice-sdpfrag)
//	DELETE /whip-resource/{id}    ends the connection (and likewise /whep-resource/)
//	OPTIONS on any of them        CORS preflight, Accept-Post / Accept-Patch
//
// A WHIP publisher is a sendonly connection like any other, a WHEP player
// a recvonly one that plays one publisher (sfu.JoinRequest.Follow).
// docs/whip.md describes the endpoints, status codes and auth.

const (
	whipProtocol = "whip"
	whepProtocol = "whep"
	sdpType      = "application/sdp"
	sdpFragType  = "application/trickle-ice-sdpfrag"
)

// handleWHIP mounts the WHIP and WHEP endpoints on mux.
func (srv *Server) handleWHIP(mux *http.ServeMux) {
	for _, p := range []string{whipProtocol, whepProtocol} {
		mux.HandleFunc("/"+p+"/", func(w http.ResponseWriter, r *http.Request) { srv.serveEndpoint(w, r, p) })
		mux.HandleFunc("/"+p+"-resource/", func(w http.ResponseWriter, r *http.Request) { srv.serveResource(w, r, p) })
	}
}

// httpError is a WHIP/WHEP failure: a status and a plain-text reason.
type httpError struct {
	status int
	reason string
}

func (e *httpError) Error() string { return fmt.Sprintf("%d %s", e.status, e.reason) }

func failure(status int, format string, args ...any) *httpError {
	return &httpError{status: status, reason: fmt.Sprintf(format, args...)}
}

func (srv *Server) fail(w http.ResponseWriter, r *http.Request, e *httpError) {
	srv.log.Info("whip/whep request refused", "method", r.Method, "path", r.URL.Path, "status", e.status, "reason", e.reason)
	if e.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="kiroku"`)
	}
	if e.status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "10")
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(e.status)
	_, _ = io.WriteString(w, e.reason+"\n")
}

// cors lets browser clients of any origin use the endpoints, as the
// signaling WebSocket does: access control is the authenticator's job.
func cors(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Methods", "POST, PATCH, DELETE, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, If-Match")
	h.Set("Access-Control-Expose-Headers", "Location, ETag, Link, Accept-Patch, Accept-Post, Sora-Connection-Id")
	h.Set("Access-Control-Max-Age", "600")
}

// serveEndpoint answers POST /whip/{channel_id} and /whep/{channel_id}.
func (srv *Server) serveEndpoint(w http.ResponseWriter, r *http.Request, protocol string) {
	cors(w)
	switch r.Method {
	case http.MethodOptions:
		w.Header().Set("Accept-Post", sdpType)
		w.WriteHeader(http.StatusNoContent)
		return
	case http.MethodPost:
	default:
		w.Header().Set("Allow", "POST, OPTIONS")
		srv.fail(w, r, failure(http.StatusMethodNotAllowed, "%s is not allowed here: POST an SDP offer", r.Method))
		return
	}
	res, answer, herr := srv.publishOrPlay(r, protocol)
	if herr != nil {
		srv.fail(w, r, herr)
		return
	}
	h := w.Header()
	h.Set("Content-Type", sdpType)
	h.Set("Location", res.location())
	h.Set("ETag", res.etag())
	h.Set("Accept-Patch", sdpFragType)
	// kiroku's own: the connection_id webhooks and the API name it by.
	h.Set("Sora-Connection-Id", res.conn.ID())
	for _, l := range linkHeaders(res.iceServers) {
		h.Add("Link", l)
	}
	w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(w, answer)
}

// offerRequest is a parsed WHIP/WHEP POST.
type offerRequest struct {
	protocol  string
	channelID string
	offer     string
	summary   sfu.OfferSummary
	token     string // the bearer token; empty when none
	query     url.Values
	userAgent string
	// clientAddr is the client's address (clientaddr.go).
	clientAddr string
}

// readOffer checks a POST's path, content type and body.
func (srv *Server) readOffer(r *http.Request, protocol string) (*offerRequest, *httpError) {
	channel, err := url.PathUnescape(strings.TrimPrefix(r.URL.EscapedPath(), "/"+protocol+"/"))
	if err != nil || !validID(channel, false) || strings.Contains(channel, "/") {
		return nil, failure(http.StatusBadRequest, "INVALID-CHANNEL-ID: the path is /%s/{channel_id}", protocol)
	}
	if ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || ct != sdpType {
		return nil, failure(http.StatusUnsupportedMediaType, "the offer must be %s", sdpType)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, srv.cfg.MaxMessageBytes+1))
	if err != nil {
		return nil, failure(http.StatusBadRequest, "read offer: %v", err)
	}
	if int64(len(body)) > srv.cfg.MaxMessageBytes {
		return nil, failure(http.StatusRequestEntityTooLarge, "the offer is over %d bytes", srv.cfg.MaxMessageBytes)
	}
	sum, err := sfu.DescribeOffer(string(body))
	if err != nil {
		return nil, failure(http.StatusBadRequest, "bad offer: %v", err)
	}
	req := &offerRequest{protocol: protocol, channelID: channel, offer: string(body), summary: sum,
		query: r.URL.Query(), userAgent: r.Header.Get("User-Agent"), clientAddr: srv.clientAddress(r)}
	if auth := r.Header.Get("Authorization"); auth != "" {
		scheme, token, _ := strings.Cut(auth, " ")
		if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			return nil, failure(http.StatusUnauthorized, "Authorization must be Bearer TOKEN")
		}
		req.token = strings.TrimSpace(token)
	}
	return req, nil
}

// publishOrPlay authenticates and joins the client of a POST, answers
// its offer and announces the new connection.
func (srv *Server) publishOrPlay(r *http.Request, protocol string) (*resource, string, *httpError) {
	req, herr := srv.readOffer(r, protocol)
	if herr != nil {
		return nil, "", herr
	}
	if herr := srv.admissible(req.channelID); herr != nil {
		return nil, "", herr
	}
	join, herr := req.joinRequest()
	if herr != nil {
		return nil, "", herr
	}
	res := &resource{srv: srv, id: newResourceID(), protocol: protocol,
		joined: make(chan struct{})}
	join.Peer = res
	auth, herr := srv.authenticateOffer(req, &join)
	if herr != nil {
		return nil, "", herr
	}
	servers, user, err := srv.iceServersFor(join.ConnectionID)
	if err != nil {
		srv.log.Warn("turn credentials", "err", err)
		return nil, "", failure(http.StatusInternalServerError, "INTERNAL-ERROR")
	}
	res.iceServers, res.turnUser = servers, user
	conn, err := srv.sfu.Join(join)
	if err != nil {
		close(res.joined) // nothing to end
		if user != "" {
			srv.cfg.TURN.Revoke(user)
		}
		return nil, "", joinFailure(err)
	}
	res.conn = conn
	close(res.joined)
	if !srv.addResource(res) {
		_ = conn.Close()
		return nil, "", failure(http.StatusServiceUnavailable, "SHUTDOWN")
	}
	srv.awaitSession(conn.Info()) // a recording from session.created starts before the media
	answer, herr := srv.answerOffer(res, auth)
	if herr != nil {
		res.end("INTERNAL-ERROR")
		return nil, "", herr
	}
	res.answered.Store(true)
	srv.created(conn.Info(), nil)
	srv.log.Info(protocol+" connection created", "channel_id", req.channelID, "connection_id", conn.ID(),
		"video_codec_type", conn.Info().VideoCodec, "client_address", req.clientAddr)
	return res, answer, nil
}

// admissible refuses a POST the mode blocks, before anyone is asked.
func (srv *Server) admissible(channelID string) *httpError {
	switch srv.sfu.Mode() {
	case sfu.ModeBlockNewConnection:
		return failure(http.StatusServiceUnavailable, "BLOCKED-NEW-CONNECTION")
	case sfu.ModeBlockNewSession:
		if _, err := srv.sfu.Session(channelID); err != nil {
			return failure(http.StatusServiceUnavailable, "BLOCKED-NEW-SESSION")
		}
	}
	return nil
}

// joinFailure maps a Join error to a status.
func joinFailure(err error) *httpError {
	switch {
	case errors.Is(err, sfu.ErrBlockedConnection):
		return failure(http.StatusServiceUnavailable, "BLOCKED-NEW-CONNECTION")
	case errors.Is(err, sfu.ErrBlockedSession):
		return failure(http.StatusServiceUnavailable, "BLOCKED-NEW-SESSION")
	case errors.Is(err, sfu.ErrClosed):
		return failure(http.StatusServiceUnavailable, "SHUTDOWN")
	case errors.Is(err, sfu.ErrInvalid):
		return failure(http.StatusBadRequest, "bad offer: %v", err)
	}
	return failure(http.StatusInternalServerError, "INTERNAL-ERROR")
}

// answerOffer answers the joined connection's offer within the connect
// timeout and starts its lifetime.
func (srv *Server) answerOffer(res *resource, auth AuthResult) (string, *httpError) {
	ctx, cancel := context.WithTimeout(srv.ctx, srv.cfg.ConnectTimeout)
	defer cancel()
	answer, err := res.conn.Answer(ctx)
	if err != nil {
		srv.log.Warn("answer "+res.protocol+" offer", "connection_id", res.conn.ID(), "err", err)
		if errors.Is(err, sfu.ErrInvalid) {
			return "", failure(http.StatusBadRequest, "bad offer: %v", err)
		}
		return "", failure(http.StatusInternalServerError, "INTERNAL-ERROR")
	}
	if auth.Lifetime > 0 {
		res.setLifetime(auth.Lifetime)
	}
	return answer, nil
}

// accessTokenMetadata is the auth webhook's "metadata" of a WHIP/WHEP
// client: its bearer token.
func accessTokenMetadata(token string) json.RawMessage {
	if token == "" {
		return nil
	}
	b, _ := json.Marshal(map[string]string{"access_token": token}) // a string always encodes
	return b
}
