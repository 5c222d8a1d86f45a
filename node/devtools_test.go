package node

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kiroku-sfu/kiroku/devtools"
)

// settingsOf loads conf as a sora.conf ("" for no file).
func settingsOf(t *testing.T, conf string) Settings {
	t.Helper()
	if conf == "" {
		st, err := LoadSettings("")
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	path := filepath.Join(t.TempDir(), "sora.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := LoadSettings(path)
	if err != nil {
		t.Fatalf("%s: %v", conf, err)
	}
	return st
}

func TestDevToolsExposure(t *testing.T) {
	for _, tc := range []struct {
		conf string
		want devtools.Exposure
	}{
		{"", devtools.LoopbackClients}, // make run
		{"dev_tools = auto\n", devtools.LoopbackClients},
		{"signaling_loopback_address_only = false\n", devtools.LoopbackClients}, // the default, restated
		{"signaling_loopback_address_only = true\n", devtools.Everyone},
		{"log_level = warn\n", devtools.Off},
		{"dev_tools = true\nlog_level = warn\n", devtools.Everyone},
		{"dev_tools = false\n", devtools.Off},
		{"dev_tools = false\nsignaling_loopback_address_only = true\n", devtools.Off},
	} {
		if got := settingsOf(t, tc.conf).devToolsExposure(); got != tc.want {
			t.Errorf("%q: exposure %v, want %v", tc.conf, got, tc.want)
		}
	}
}

func TestDevToolsKeyIsValidated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sora.conf")
	if err := os.WriteFile(path, []byte("dev_tools = yes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadSettings(path); err == nil || !strings.Contains(err.Error(), "dev_tools") {
		t.Errorf("dev_tools = yes: %v", err)
	}
}

// TestSignalingHandler checks the signaling port's routes with the dev
// tools on, for loopback clients only (make run) and off. archive_dir is
// the default, ./archive, absent here.
func TestSignalingHandler(t *testing.T) {
	sig := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "signaling") })
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, tc := range []struct {
		conf, path, remote, want string
	}{
		{"", "/", "127.0.0.1:1", "Publish"},
		{"", "/", "192.0.2.1:1", "404"},
		{"", "/signaling", "192.0.2.1:1", "signaling"},
		{"", "/recordings.json", "127.0.0.1:1", "["},
		{"signaling_loopback_address_only = true\n", "/view.html", "127.0.0.1:1", "View"},
		{"signaling_loopback_address_only = true\n", "/signaling", "127.0.0.1:1", "signaling"},
		{"dev_tools = false\n", "/", "127.0.0.1:1", "signaling"},
	} {
		st := settingsOf(t, tc.conf)
		h, err := signalingHandler(st, sig, logger)
		if err != nil {
			t.Fatal(err)
		}
		r := httptest.NewRequest(http.MethodGet, tc.path, nil)
		r.RemoteAddr = tc.remote
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if !strings.Contains(w.Body.String(), tc.want) && !(tc.want == "404" && w.Code == http.StatusNotFound) {
			t.Errorf("%q GET %s from %s: %d %.60q, want %q", tc.conf, tc.path, tc.remote, w.Code, w.Body, tc.want)
		}
	}
}
