// Package devtools serves the dev tools web page on the signaling port, as
// Sora does at `/`: pages to publish a camera, view a channel, start and
// stop a recording through the HTTP API, and list and play the finished
// files of archive_dir. The pages are plain HTML and JavaScript with
// sora-js-sdk embedded in the binary (no CDN, no build step); archive_dir is
// served read-only, finished files only.
package devtools

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"path"
	"time"
)

//go:embed web/*.html web/assets web/sora-js-sdk/sora.js web/sora-js-sdk/LICENSE
var webFiles embed.FS

// SDKVersion is the version of the embedded sora-js-sdk (web/sora-js-sdk).
const SDKVersion = "2026.1.0"

// Options is what the handler needs from the rest of the process.
type Options struct {
	// ArchiveDir is archive_dir, served read-only.
	ArchiveDir string
	// APIPort is api_listen_port: the pages call the HTTP API on the host
	// they were loaded from, at this port.
	APIPort uint16
	// SignalingPath is the WebSocket signaling path on this port.
	SignalingPath string
	// LoopbackClientsOnly answers 404 to clients whose address is not a
	// loopback address (Decide's LoopbackClients).
	LoopbackClientsOnly bool
	// Logger receives errors reading archive_dir; nil discards them.
	Logger *slog.Logger
}

// Handler serves the dev tools pages, their settings, the recordings list
// and the recorded files.
type Handler struct {
	opts Options
	web  fs.FS
	mux  *http.ServeMux
}

// New returns the dev tools handler.
func New(opts Options) (*Handler, error) {
	if opts.ArchiveDir == "" || opts.APIPort == 0 || opts.SignalingPath == "" {
		return nil, errors.New("devtools: archive dir, API port and signaling path are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	web, err := fs.Sub(webFiles, "web")
	if err != nil {
		return nil, fmt.Errorf("devtools: embedded pages: %w", err)
	}
	h := &Handler{opts: opts, web: web, mux: http.NewServeMux()}
	h.Register(h.mux)
	return h, nil
}

// patterns maps each route the handler owns to its handler function.
func (h *Handler) patterns() map[string]http.HandlerFunc {
	return map[string]http.HandlerFunc{
		"GET /{$}":                  h.page("index.html"),
		"GET /view.html":            h.page("view.html"),
		"GET /recordings.html":      h.page("recordings.html"),
		"GET /assets/{name}":        h.asset("assets"),
		"GET /sora-js-sdk/{name}":   h.asset("sora-js-sdk"),
		"GET /devtools.json":        h.settings,
		"GET /recordings.json":      h.recordings,
		"GET /archive/{rec}/{name}": h.archiveFile,
	}
}

// Register adds the dev tools' routes to mux: `/` and a few named paths,
// each more specific than a catch-all "/" that mux may hold for signaling.
// GET routes answer HEAD too.
func (h *Handler) Register(mux *http.ServeMux) {
	for pattern, fn := range h.patterns() {
		mux.Handle(pattern, h.guard(fn))
	}
}

// ServeHTTP serves the dev tools alone (404 for any other path).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// guard hides the dev tools from non-loopback clients when asked to, and
// sets the headers every answer carries.
func (h *Handler) guard(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.opts.LoopbackClientsOnly && !loopbackClient(r.RemoteAddr) {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "no-store")
		next(w, r)
	})
}

// loopbackClient reports whether remoteAddr (host:port) is a loopback
// address.
func loopbackClient(remoteAddr string) bool {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// pageCSP limits the pages to their own scripts; they connect to the
// signaling WebSocket and to the HTTP API on another port.
const pageCSP = "default-src 'self'; connect-src 'self' ws: wss: http: https:; media-src 'self' blob:; " +
	"img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"

// page serves one embedded HTML page.
func (h *Handler) page(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", pageCSP)
		h.serveEmbedded(w, r, name)
	}
}

// asset serves web/dir/{name}, names of embedded files only.
func (h *Handler) asset(dir string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h.serveEmbedded(w, r, path.Join(dir, r.PathValue("name")))
	}
}

// serveEmbedded serves an embedded file with the Content-Type of its
// extension.
func (h *Handler) serveEmbedded(w http.ResponseWriter, r *http.Request, name string) {
	ct, ok := staticType(path.Ext(name))
	if !ok || !fs.ValidPath(name) {
		http.NotFound(w, r)
		return
	}
	body, err := fs.ReadFile(h.web, name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", ct)
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(body))
}

// staticType is the Content-Type of an embedded file by its extension.
func staticType(ext string) (string, bool) {
	switch ext {
	case ".html":
		return "text/html; charset=utf-8", true
	case ".js":
		return "text/javascript; charset=utf-8", true
	case ".css":
		return "text/css; charset=utf-8", true
	case "": // LICENSE
		return "text/plain; charset=utf-8", true
	}
	return "", false
}

// pageSettings is /devtools.json: what the pages need to know.
type pageSettings struct {
	SignalingPath string `json:"signaling_path"`
	APIPort       uint16 `json:"api_port"`
	SDKVersion    string `json:"sdk_version"`
}

func (h *Handler) settings(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, pageSettings{SignalingPath: h.opts.SignalingPath, APIPort: h.opts.APIPort, SDKVersion: SDKVersion})
}

// writeJSON answers 200 with v as JSON.
func writeJSON(w http.ResponseWriter, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "reply not encodable", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}
