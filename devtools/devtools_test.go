package devtools

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// newTestHandler returns a handler over archiveDir for 127.0.0.1 clients.
func newTestHandler(t *testing.T, archiveDir string, loopbackOnly bool) *Handler {
	t.Helper()
	h, err := New(Options{ArchiveDir: archiveDir, APIPort: 3000, SignalingPath: "/signaling", LoopbackClientsOnly: loopbackOnly})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// get serves one request from remote and returns the recorder.
func get(h http.Handler, method, target, remote string, header http.Header) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, nil)
	r.RemoteAddr = remote
	for k, v := range header {
		r.Header[k] = v
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestNewRequiresOptions(t *testing.T) {
	for _, o := range []Options{
		{APIPort: 3000, SignalingPath: "/signaling"},
		{ArchiveDir: "a", SignalingPath: "/signaling"},
		{ArchiveDir: "a", APIPort: 3000},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) succeeded", o)
		}
	}
}

func TestPagesAndAssets(t *testing.T) {
	h := newTestHandler(t, t.TempDir(), false)
	for _, tc := range []struct {
		path, contentType, contains string
	}{
		{"/", "text/html; charset=utf-8", `id="publish"`},
		{"/view.html", "text/html; charset=utf-8", `id="remotes"`},
		{"/recordings.html", "text/html; charset=utf-8", `id="recordings"`},
		{"/assets/publish.js", "text/javascript; charset=utf-8", `from "/sora-js-sdk/sora.js"`},
		{"/assets/style.css", "text/css; charset=utf-8", "video"},
		{"/sora-js-sdk/sora.js", "text/javascript; charset=utf-8", "@version: " + SDKVersion},
		{"/sora-js-sdk/LICENSE", "text/plain; charset=utf-8", "Apache License"},
	} {
		w := get(h, http.MethodGet, tc.path, "127.0.0.1:4000", nil)
		if w.Code != http.StatusOK || w.Header().Get("Content-Type") != tc.contentType ||
			!strings.Contains(w.Body.String(), tc.contains) {
			t.Errorf("GET %s: %d %q, body has %q: %v", tc.path, w.Code, w.Header().Get("Content-Type"), tc.contains,
				strings.Contains(w.Body.String(), tc.contains))
		}
		if w.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: no nosniff", tc.path)
		}
		if strings.HasSuffix(tc.contentType, "html; charset=utf-8") && !strings.Contains(w.Header().Get("Content-Security-Policy"), "frame-ancestors 'none'") {
			t.Errorf("GET %s: CSP %q", tc.path, w.Header().Get("Content-Security-Policy"))
		}
	}
}

func TestUnknownPathsAndMethods(t *testing.T) {
	h := newTestHandler(t, t.TempDir(), false)
	for _, tc := range []struct {
		method, path string
		want         int
	}{
		{http.MethodGet, "/index.html", http.StatusNotFound},
		{http.MethodGet, "/assets/missing.js", http.StatusNotFound},
		{http.MethodGet, "/assets/", http.StatusNotFound},
		{http.MethodGet, "/sora-js-sdk/README.md", http.StatusNotFound}, // not embedded
		{http.MethodGet, "/sora-js-sdk/sora.d.ts", http.StatusNotFound},
		{http.MethodGet, "/assets/%2e%2e%2fdevtools.go", http.StatusNotFound},
		{http.MethodGet, "/signaling", http.StatusNotFound}, // not ours
		{http.MethodPost, "/", http.StatusMethodNotAllowed},
		{http.MethodDelete, "/archive/R/archive-C.webm", http.StatusMethodNotAllowed},
	} {
		if w := get(h, tc.method, tc.path, "127.0.0.1:4000", nil); w.Code != tc.want {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.path, w.Code, tc.want)
		}
	}
}

func TestSettings(t *testing.T) {
	h := newTestHandler(t, t.TempDir(), false)
	w := get(h, http.MethodGet, "/devtools.json", "127.0.0.1:4000", nil)
	var got pageSettings
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || w.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("devtools.json: %v %q %s", err, w.Header().Get("Content-Type"), w.Body)
	}
	if want := (pageSettings{SignalingPath: "/signaling", APIPort: 3000, SDKVersion: SDKVersion}); got != want {
		t.Errorf("settings %+v, want %+v", got, want)
	}
}

func TestLoopbackClientsOnly(t *testing.T) {
	for _, tc := range []struct {
		remote       string
		loopbackOnly bool
		want         int
	}{
		{"127.0.0.1:5555", true, http.StatusOK},
		{"127.3.2.1:5555", true, http.StatusOK},
		{"[::1]:5555", true, http.StatusOK},
		{"192.0.2.10:5555", true, http.StatusNotFound},
		{"[2001:db8::1]:5555", true, http.StatusNotFound},
		{"[::ffff:192.0.2.10]:5555", true, http.StatusNotFound},
		{"garbage", true, http.StatusNotFound},
		{"192.0.2.10:5555", false, http.StatusOK},
	} {
		h := newTestHandler(t, t.TempDir(), tc.loopbackOnly)
		for _, path := range []string{"/", "/recordings.json", "/sora-js-sdk/sora.js"} {
			if w := get(h, http.MethodGet, path, tc.remote, nil); w.Code != tc.want {
				t.Errorf("%s from %s (loopback only %v): %d, want %d", path, tc.remote, tc.loopbackOnly, w.Code, tc.want)
			}
		}
	}
}

// TestRegisterBesideCatchAll mounts the dev tools on a mux whose "/"
// belongs to another handler, as the signaling port's mux does.
func TestRegisterBesideCatchAll(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "other") }))
	newTestHandler(t, t.TempDir(), false).Register(mux)
	for path, want := range map[string]string{"/signaling": "other", "/whip/x": "other", "/assets/a/b": "other"} {
		if w := get(mux, http.MethodGet, path, "127.0.0.1:1", nil); w.Body.String() != want {
			t.Errorf("GET %s: %q, want %q", path, w.Body.String(), want)
		}
	}
	if w := get(mux, http.MethodGet, "/", "127.0.0.1:1", nil); !strings.Contains(w.Body.String(), `id="publish"`) {
		t.Errorf("GET / on the shared mux is not the publish page: %d", w.Code)
	}
}
