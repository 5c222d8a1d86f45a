package signaling

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/kiroku-sfu/kiroku/sfu"
)

// serveResource answers PATCH, DELETE and OPTIONS on
// /whip-resource/{id} and /whep-resource/{id}.
func (srv *Server) serveResource(w http.ResponseWriter, r *http.Request, protocol string) {
	cors(w)
	id := strings.TrimPrefix(r.URL.Path, "/"+protocol+"-resource/")
	res := srv.resource(protocol, id)
	switch {
	case r.Method == http.MethodOptions:
		w.Header().Set("Accept-Patch", sdpFragType)
		w.WriteHeader(http.StatusNoContent)
	case r.Method != http.MethodPatch && r.Method != http.MethodDelete:
		w.Header().Set("Allow", "PATCH, DELETE, OPTIONS")
		srv.fail(w, r, failure(http.StatusMethodNotAllowed, "%s is not allowed on a resource", r.Method))
	case res == nil:
		srv.fail(w, r, failure(http.StatusNotFound, "no such %s resource: it ended or never was", protocol))
	case r.Method == http.MethodDelete:
		res.end("RESOURCE-DELETED")
		w.WriteHeader(http.StatusOK)
	default:
		srv.patch(w, r, res)
	}
}

// patch applies a trickle-ice-sdpfrag: candidates are added; new ICE
// credentials restart ICE, answered with the server's new credentials
// and candidates.
func (srv *Server) patch(w http.ResponseWriter, r *http.Request, res *resource) {
	if ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || ct != sdpFragType {
		srv.fail(w, r, failure(http.StatusUnsupportedMediaType, "a PATCH must be %s", sdpFragType))
		return
	}
	if m := r.Header.Get("If-Match"); m != "" && m != "*" && m != res.etag() {
		srv.fail(w, r, failure(http.StatusPreconditionFailed, "If-Match %s is not the resource's ETag", m))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, srv.cfg.MaxMessageBytes+1))
	if err != nil || int64(len(body)) > srv.cfg.MaxMessageBytes {
		srv.fail(w, r, failure(http.StatusRequestEntityTooLarge, "the fragment is over %d bytes", srv.cfg.MaxMessageBytes))
		return
	}
	frag := parseSDPFrag(string(body))
	if cur := res.conn.RemoteICE(); (frag.ice.Ufrag != "" && frag.ice.Ufrag != cur.Ufrag) ||
		(frag.ice.Pwd != "" && frag.ice.Pwd != cur.Pwd) {
		srv.restartICE(w, r, res, frag)
		return
	}
	for _, c := range frag.candidates {
		if err := res.conn.AddICECandidate(c.candidate, c.mid, nil); err != nil {
			srv.log.Debug("add trickled candidate", "connection_id", res.conn.ID(), "err", err)
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

func (srv *Server) restartICE(w http.ResponseWriter, r *http.Request, res *resource, frag sdpFrag) {
	if frag.ice.Pwd == "" {
		srv.fail(w, r, failure(http.StatusBadRequest, "an ICE restart needs a=ice-ufrag and a=ice-pwd"))
		return
	}
	cands := make([]string, 0, len(frag.candidates))
	for _, c := range frag.candidates {
		cands = append(cands, c.candidate)
	}
	ctx, cancel := context.WithTimeout(srv.ctx, srv.cfg.ConnectTimeout)
	defer cancel()
	local, localCands, err := res.conn.RestartICE(ctx, frag.ice, cands)
	if err != nil {
		srv.log.Warn("ice restart", "connection_id", res.conn.ID(), "err", err)
		status := http.StatusInternalServerError
		if errors.Is(err, sfu.ErrInvalid) {
			status = http.StatusBadRequest
		}
		srv.fail(w, r, failure(status, "ice restart failed"))
		return
	}
	res.patches.Add(1)
	var b strings.Builder
	fmt.Fprintf(&b, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\n", local.Ufrag, local.Pwd)
	for _, c := range localCands {
		fmt.Fprintf(&b, "a=%s\r\n", c)
	}
	b.WriteString("a=end-of-candidates\r\n")
	w.Header().Set("Content-Type", sdpFragType)
	w.Header().Set("ETag", res.etag())
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, b.String())
}

// sdpFrag is a parsed trickle-ice-sdpfrag (RFC 8840).
type sdpFrag struct {
	ice        sfu.ICECredentials
	candidates []fragCandidate
}

type fragCandidate struct {
	mid       string
	candidate string // "candidate:…"
}

// parseSDPFrag reads the lines a WHIP/WHEP PATCH uses; others are ignored.
func parseSDPFrag(body string) sdpFrag {
	var f sdpFrag
	mid := ""
	for _, line := range strings.Split(body, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "a=ice-ufrag:"):
			f.ice.Ufrag = strings.TrimPrefix(line, "a=ice-ufrag:")
		case strings.HasPrefix(line, "a=ice-pwd:"):
			f.ice.Pwd = strings.TrimPrefix(line, "a=ice-pwd:")
		case strings.HasPrefix(line, "a=mid:"):
			mid = strings.TrimPrefix(line, "a=mid:")
		case strings.HasPrefix(line, "a=candidate:"):
			f.candidates = append(f.candidates, fragCandidate{mid: mid, candidate: strings.TrimPrefix(line, "a=")})
		}
	}
	return f
}

// iceServersFor is what a connection is told of ICE servers: the
// configured ones and, with the built-in TURN server, that server with
// credentials of the connection's own (user, to revoke at its end).
func (srv *Server) iceServersFor(connectionID string) (servers []ICEServer, user string, err error) {
	servers = srv.iceServers()
	turn := srv.cfg.TURN
	if turn == nil {
		return servers, "", nil
	}
	user, pass, err := turn.Credentials(connectionID)
	if err != nil {
		return nil, "", err
	}
	servers = append(append([]ICEServer(nil), servers...), ICEServer{URLs: turn.URLs(), Username: user, Credential: pass})
	return servers, user, nil
}

// linkHeaders are the ICE servers as RFC 9725 Link header values.
func linkHeaders(servers []ICEServer) []string {
	var out []string
	for _, s := range servers {
		for _, u := range s.URLs {
			l := "<" + u + `>; rel="ice-server"`
			if s.Username != "" {
				l += `; username="` + quoted(s.Username) + `"; credential="` + quoted(s.Credential) + `"; credential-type="password"`
			}
			out = append(out, l)
		}
	}
	return out
}

func quoted(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}
