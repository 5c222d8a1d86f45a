// Package api serves Sora's HTTP API: POST requests whose method is named
// by the x-sora-target header (Sora_YYYYMMDD.Method), JSON in and out.
//
// Errors are JSON objects {"error_type": "...", "error_reason": "..."}
// with status 400 (bad JSON, missing or invalid fields, unknown target),
// 404 (unknown channel, session, connection or client), 409 (state
// conflict, e.g. a session already recording), 403 (a browser page from an
// origin not in Config.CORSAllowOrigins), 405 (not POST), 413 (a body over
// MaxBodyBytes) or 500.
//
// Calls that end connections, sessions or recordings or change the mode
// are logged with the caller's address.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
)

// MaxBodyBytes bounds a request body: a larger one is refused with 413
// and a JSON error before it is read.
const MaxBodyBytes = 1 << 20

// handler implements one target: it decodes body and returns the reply.
type handler func(ctx context.Context, body []byte) (any, error)

// Server is the HTTP API handler.
type Server struct {
	backend   Backend
	recorder  Recorder
	forwarder Forwarder // nil outside a cluster
	logger    *slog.Logger
	origins   originSet
	targets   map[string]handler
}

// NewServer returns the API handler for backend with the zero Config: no
// browser origin may call it. recorder may be nil.
func NewServer(backend Backend, recorder Recorder, logger *slog.Logger) (*Server, error) {
	return New(Config{}, backend, recorder, logger)
}

// New validates cfg and returns the API handler for backend; recorder may
// be nil (recording calls then fail with 400), logger nil discards.
func New(cfg Config, backend Backend, recorder Recorder, logger *slog.Logger) (*Server, error) {
	if backend == nil {
		return nil, errors.New("api: nil backend")
	}
	origins, err := newOriginSet(cfg.CORSAllowOrigins)
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{backend: backend, recorder: recorder, logger: logger, origins: origins, forwarder: cfg.Forwarder}
	s.targets = s.routes()
	return s, nil
}

// Targets lists the x-sora-target values the server answers.
func (s *Server) Targets() []string {
	out := make([]string, 0, len(s.targets))
	for t := range s.targets {
		out = append(out, t)
	}
	return out
}

// apiError is an error with its HTTP status and Sora-style type.
type apiError struct {
	status int
	typ    string
	reason string
}

func (e *apiError) Error() string { return e.typ + ": " + e.reason }

func badRequest(format string, args ...any) error {
	return &apiError{status: http.StatusBadRequest, typ: "invalid_request", reason: fmt.Sprintf(format, args...)}
}

// ServeHTTP refuses requests from origins not allowed, answers CORS
// preflights and dispatches POSTs by x-sora-target.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	if !s.origins.allows(origin) {
		s.logger.Info("api request from an origin not allowed", "origin", origin,
			"remote_addr", r.RemoteAddr, "method", r.Method)
		writeError(w, &apiError{status: http.StatusForbidden, typ: "origin_not_allowed",
			reason: fmt.Sprintf("origin %q is not in api_cors_allow_origins", origin)})
		return
	}
	if origin != "" {
		setCORS(w.Header(), origin)
	}
	if r.Method == http.MethodOptions {
		w.WriteHeader(http.StatusOK)
		return
	}
	if r.Method != http.MethodPost {
		writeError(w, &apiError{status: http.StatusMethodNotAllowed, typ: "method_not_allowed", reason: "use POST"})
		return
	}
	target := strings.TrimSpace(r.Header.Get("x-sora-target"))
	h, ok := s.targets[target]
	if !ok {
		writeError(w, badRequest("unknown x-sora-target %q", target))
		return
	}
	body, status := s.serveTarget(w, r, target, h)
	if destructive(target) {
		audit(s.logger, r, target, body, status)
	}
}

// serveTarget reads the body, runs h and writes its reply; it returns the
// body and the status written.
func (s *Server) serveTarget(w http.ResponseWriter, r *http.Request, target string, h handler) ([]byte, int) {
	body, err := readBody(w, r)
	if err != nil {
		return nil, writeError(w, err)
	}
	if status, ok := s.forward(w, r, target, h, body); ok {
		return body, status
	}
	reply, err := h(r.Context(), body)
	if err != nil {
		s.logger.Info("api request failed", "target", target, "remote_addr", r.RemoteAddr, "err", err)
		return body, writeError(w, err)
	}
	writeJSON(w, http.StatusOK, reply)
	return body, http.StatusOK
}

// readBody reads at most MaxBodyBytes; a body announced or found to be
// larger is a 413.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	tooLarge := &apiError{status: http.StatusRequestEntityTooLarge, typ: "too_large",
		reason: fmt.Sprintf("body over %d bytes", MaxBodyBytes)}
	if r.ContentLength > MaxBodyBytes {
		return nil, tooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return nil, tooLarge
	case err != nil:
		return nil, badRequest("reading body: %v", err)
	}
	return body, nil
}

// writeError writes err as Sora's JSON error and returns the status.
func writeError(w http.ResponseWriter, err error) int {
	var ae *apiError
	switch {
	case errors.As(err, &ae):
	case errors.Is(err, ErrNotFound):
		ae = &apiError{status: http.StatusNotFound, typ: "not_found", reason: err.Error()}
	case errors.Is(err, ErrConflict):
		ae = &apiError{status: http.StatusConflict, typ: "conflict", reason: err.Error()}
	case errors.Is(err, ErrInvalid):
		ae = &apiError{status: http.StatusBadRequest, typ: "invalid_request", reason: err.Error()}
	default:
		ae = &apiError{status: http.StatusInternalServerError, typ: "internal_error", reason: err.Error()}
	}
	writeJSON(w, ae.status, map[string]string{"error_type": ae.typ, "error_reason": ae.reason})
	return ae.status
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status, body = http.StatusInternalServerError, []byte(`{"error_type":"internal_error","error_reason":"reply not encodable"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// decode parses body into dst: bad JSON, a non-object and trailing data are
// 400s; unknown fields are ignored, as Sora does, so clients written for a
// newer Sora keep working. An empty body decodes as {} (GetMode is sent
// with no body).
func decode(body []byte, dst any) error {
	if len(strings.TrimSpace(string(body))) == 0 {
		body = []byte("{}")
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	if err := dec.Decode(dst); err != nil {
		return badRequest("body is not the expected JSON: %v", err)
	}
	if dec.More() {
		return badRequest("body has trailing data after the JSON object")
	}
	return nil
}

// required fails with a 400 naming the first empty field.
func required(fields ...[2]string) error {
	for _, f := range fields {
		if f[1] == "" {
			return badRequest("%s is required", f[0])
		}
	}
	return nil
}
