package api

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// serve runs one request through a Server built with cfg and returns the
// reply and the fake backend's calls.
func serve(t *testing.T, cfg Config, logger *slog.Logger, req *http.Request) (*httptest.ResponseRecorder, *fakeBackend) {
	t.Helper()
	b := &fakeBackend{mode: ModeNormal, conns: []Connection{{ChannelID: "room", ConnectionID: "C1"}}}
	s, err := New(cfg, b, &fakeRecorder{}, logger)
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req)
	return w, b
}

func preflight(origin string) *http.Request {
	r := httptest.NewRequest(http.MethodOptions, "/", nil)
	r.Header.Set("Origin", origin)
	r.Header.Set("Access-Control-Request-Method", "POST")
	r.Header.Set("Access-Control-Request-Headers", "x-sora-target")
	return r
}

func post(origin, target, body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	r.RemoteAddr = "192.0.2.7:4242"
	r.Header.Set("x-sora-target", target)
	if origin != "" {
		r.Header.Set("Origin", origin)
	}
	return r
}

func TestPreflightOnlyForListedOrigins(t *testing.T) {
	dev := Config{}.WithDefaultOrigins(5000)
	for _, tc := range []struct {
		name, origin string
		cfg          Config
		allow        string // expected Access-Control-Allow-Origin, "" for none
		status       int
	}{
		{"evil page, defaults", "http://evil.example", dev, "", http.StatusForbidden},
		{"evil page, zero config", "http://evil.example", Config{}, "", http.StatusForbidden},
		{"evil page, other origins listed", "http://evil.example",
			Config{CORSAllowOrigins: []string{"https://app.example"}}, "", http.StatusForbidden},
		{"null origin", "null", dev, "", http.StatusForbidden},
		{"dev tools page on 127.0.0.1", "http://127.0.0.1:5000", dev, "http://127.0.0.1:5000", http.StatusOK},
		{"dev tools page on localhost", "http://localhost:5000", dev, "http://localhost:5000", http.StatusOK},
		{"another port of the same host", "http://127.0.0.1:5001", dev, "", http.StatusForbidden},
		{"empty list allows none", "http://127.0.0.1:5000", Config{CORSAllowOrigins: []string{}}, "", http.StatusForbidden},
		{"listed with default port and slash", "https://app.example",
			Config{CORSAllowOrigins: []string{"HTTPS://App.Example:443/"}}, "https://app.example", http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, _ := serve(t, tc.cfg, nil, preflight(tc.origin))
			if got := w.Header().Get("Access-Control-Allow-Origin"); got != tc.allow || w.Code != tc.status {
				t.Errorf("status %d, Access-Control-Allow-Origin %q; want %d, %q", w.Code, got, tc.status, tc.allow)
			}
			if !strings.Contains(w.Header().Get("Vary"), "Origin") {
				t.Errorf("Vary = %q", w.Header().Get("Vary"))
			}
			if tc.allow == "" && w.Header().Get("Access-Control-Allow-Headers") != "" {
				t.Errorf("CORS headers sent to a refused origin: %v", w.Header())
			}
		})
	}
}

func TestPostFromUnlistedOriginChangesNothing(t *testing.T) {
	cfg := Config{}.WithDefaultOrigins(5000)
	w, b := serve(t, cfg, nil, post("http://evil.example", "Sora_20151104.DisconnectChannel", `{"channel_id":"room"}`))
	if w.Code != http.StatusForbidden || len(b.calls) != 0 || w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("status %d, calls %v, headers %v", w.Code, b.calls, w.Header())
	}
	var e map[string]string
	if json.Unmarshal(w.Body.Bytes(), &e) != nil || e["error_type"] != "origin_not_allowed" {
		t.Errorf("body %s", w.Body)
	}
	// A listed origin and a caller without Origin (curl, a server) are served.
	for _, origin := range []string{"http://localhost:5000", ""} {
		w, b = serve(t, cfg, nil, post(origin, "Sora_20151104.DisconnectChannel", `{"channel_id":"room"}`))
		if w.Code != http.StatusOK || len(b.calls) != 1 || w.Header().Get("Access-Control-Allow-Origin") != origin {
			t.Errorf("origin %q: status %d, calls %v, headers %v", origin, w.Code, b.calls, w.Header())
		}
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		origins []string
		ok      bool
	}{
		{nil, true},
		{[]string{}, true},
		{DefaultCORSAllowOrigins(5000), true},
		{[]string{"https://app.example", "http://[::1]:5000"}, true},
		{[]string{"*"}, false},
		{[]string{"https://*.example"}, false},
		{[]string{"app.example"}, false},
		{[]string{"ftp://app.example"}, false},
		{[]string{"https://app.example/devtools"}, false},
		{[]string{"https://user@app.example"}, false},
		{[]string{"https://app.example?x=1"}, false},
		{[]string{"null"}, false},
	} {
		err := Config{CORSAllowOrigins: tc.origins}.Validate()
		if (err == nil) != tc.ok {
			t.Errorf("%q: err = %v, want ok %v", tc.origins, err, tc.ok)
		}
		if _, nerr := New(Config{CORSAllowOrigins: tc.origins}, &fakeBackend{}, nil, nil); (nerr == nil) != tc.ok {
			t.Errorf("New with %q: err = %v", tc.origins, nerr)
		}
	}
}

func TestWithDefaultOrigins(t *testing.T) {
	got := Config{}.WithDefaultOrigins(5123).CORSAllowOrigins
	if strings.Join(got, " ") != "http://127.0.0.1:5123 http://localhost:5123 http://[::1]:5123" {
		t.Errorf("defaults = %q", got)
	}
	set := Config{CORSAllowOrigins: []string{}}.WithDefaultOrigins(5123).CORSAllowOrigins
	if set == nil || len(set) != 0 {
		t.Errorf("an empty list set by the configuration became %q", set)
	}
}

func TestBodyLimit(t *testing.T) {
	for _, tc := range []struct {
		name   string
		body   io.Reader
		length int64 // Content-Length; -1 for unknown (chunked)
	}{
		{"announced", strings.NewReader("{}"), MaxBodyBytes + 1},
		{"chunked", strings.NewReader(`{"mode":"normal"}` + strings.Repeat(" ", MaxBodyBytes)), -1},
		{"exact length", strings.NewReader(strings.Repeat(" ", MaxBodyBytes+10)), MaxBodyBytes + 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", tc.body)
			r.ContentLength = tc.length
			r.Header.Set("x-sora-target", "Sora_20211215.ChangeMode")
			w, b := serve(t, Config{}, nil, r)
			var e map[string]string
			if w.Code != http.StatusRequestEntityTooLarge || json.Unmarshal(w.Body.Bytes(), &e) != nil ||
				e["error_type"] != "too_large" || b.mode != ModeNormal {
				t.Errorf("status %d, body %s", w.Code, w.Body)
			}
		})
	}
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"mode":"block_new_session"}`+strings.Repeat(" ", MaxBodyBytes-40)))
	r.Header.Set("x-sora-target", "Sora_20211215.ChangeMode")
	if w, b := serve(t, Config{}, nil, r); w.Code != http.StatusOK || b.mode != ModeBlockNewSession {
		t.Errorf("body under the limit: %d %s", w.Code, w.Body)
	}
}

func TestDestructiveCallsAreLogged(t *testing.T) {
	for _, tc := range []struct {
		target, body string
		logged       bool
		want         []string // substrings of the log line
	}{
		{"Sora_20151104.DisconnectChannel", `{"channel_id":"room"}`, true, []string{`"channel_id":"room"`, `"status":200`}},
		{"Sora_20151104.DisconnectConnection", `{"channel_id":"room","connection_id":"C9"}`, true, []string{`"connection_id":"C9"`, `"status":404`}},
		{"Sora_20151104.DisconnectClient", `{"channel_id":"room","client_id":"alice"}`, true, []string{`"client_id":"alice"`}},
		{"Sora_20230628.TerminateSession", `{"channel_id":"room","session_id":"S1"}`, true, []string{`"session_id":"S1"`}},
		{"Sora_20211215.ChangeMode", `{"mode":"block_new_connection"}`, true, []string{`"mode":"block_new_connection"`}},
		{"Sora_20231220.StartRecording", `{"channel_id":"room"}`, true, []string{`"channel_id":"room"`}},
		{"Sora_20231220.StopRecording", `{"channel_id":"room"}`, true, []string{`"status":409`}},
		{"Sora_20151104.DisconnectChannel", `{"channel_id":`, true, []string{`"status":400`}},
		{"Sora_20211215.GetMode", ``, false, nil},
		{"Sora_20201013.ListConnections", ``, false, nil},
		{"Sora_20160711.PushChannel", `{"channel_id":"room","data":{}}`, false, nil},
	} {
		var buf bytes.Buffer
		logger := slog.New(slog.NewJSONHandler(&buf, nil))
		w, _ := serve(t, Config{}, logger, post("", tc.target, tc.body))
		var line string
		for _, l := range strings.Split(buf.String(), "\n") {
			if strings.Contains(l, "api destructive call") {
				line = l
			}
		}
		if (line != "") != tc.logged {
			t.Errorf("%s (%d): logged %q, want logged %v", tc.target, w.Code, buf.String(), tc.logged)
			continue
		}
		for _, want := range append(tc.want, `"remote_addr":"192.0.2.7:4242"`, `"target":"`+tc.target+`"`) {
			if tc.logged && !strings.Contains(line, want) {
				t.Errorf("%s: log line %s lacks %s", tc.target, line, want)
			}
		}
	}
}
