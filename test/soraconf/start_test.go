package soraconf

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kiroku-sfu/kiroku/config"
	"github.com/kiroku-sfu/kiroku/node"
)

// TestSoraKeysChangeNothing: each Sora key kiroku does not implement loads
// without error, and its value changes nothing: the same file with two
// different values gives equal settings.
func TestSoraKeysChangeNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sora.conf")
	loadAt := func(conf string) (node.Settings, error) {
		if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		return node.LoadSettings(path)
	}
	for _, k := range config.SoraKeys() {
		a, errA := loadAt(k.Name + " = 443\n")
		b, errB := loadAt(k.Name + " = false\n")
		if errA != nil || errB != nil {
			t.Errorf("%s: %v, %v", k.Name, errA, errB)
		} else if !reflect.DeepEqual(a, b) {
			t.Errorf("%s's value changed the settings, so kiroku implements it: remove it from config.SoraKeys", k.Name)
		}
	}
	for line, want := range map[string]string{
		"archive_dri = /srv\n":       "archive_dri: unknown key; did you mean archive_dir?",
		"turn_tls_prot = 443\n":      "turn_tls_prot: unknown key; did you mean turn_tls_port?",
		"favourite_colour = blue\n":  "favourite_colour: unknown key",
		"api_cors_allow_origin = \n": "did you mean api_cors_allow_origins?",
	} {
		if _, err := load(t, line); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want %q", line, err, want)
		}
	}
}

// freePort returns a TCP port of 127.0.0.1 that nothing listens on now.
func freePort(t *testing.T, network string) int {
	t.Helper()
	if network == "udp" {
		c, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port
	}
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// syncBuffer is a bytes buffer safe for a writer and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestNodeStartsWithOneWarningAndSafeCORS starts a node from a sora.conf
// that sets two Sora keys kiroku does not implement: it serves, logs one
// warning naming both, and its API answers CORS only for the dev tools
// page's origin.
func TestNodeStartsWithOneWarningAndSafeCORS(t *testing.T) {
	dir := t.TempDir()
	sig, apiPort := freePort(t, "tcp"), freePort(t, "tcp")
	conf := fmt.Sprintf(`signaling_listen_port = %d
signaling_loopback_address_only = true
api_listen_port = %d
ipv4_address = 127.0.0.1
udp_port = %d
archive_dir = %s
archive_tmp_dir = %s
legacy_recording = true
signaling_notify = true
`, sig, apiPort, freePort(t, "udp"), filepath.Join(dir, "archive"), filepath.Join(dir, "tmp"))
	st, err := load(t, conf)
	if err != nil {
		t.Fatal(err)
	}
	var logs, stdout syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- node.Serve(ctx, st, slog.New(slog.NewJSONHandler(&logs, nil)), &stdout) }()
	defer func() {
		cancel()
		select {
		case err := <-served:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("Serve did not return after its context ended")
		}
	}()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(stdout.String(), "HTTP API on") {
		if time.Now().After(deadline) {
			t.Fatalf("node did not start; stdout %q, logs %s", stdout.String(), logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	api := fmt.Sprintf("http://127.0.0.1:%d/", apiPort)
	for origin, allowed := range map[string]bool{
		"http://evil.example":                       false,
		fmt.Sprintf("http://127.0.0.1:%d", sig):     true,
		fmt.Sprintf("http://localhost:%d", sig):     true,
		fmt.Sprintf("http://[::1]:%d", sig):         true,
		fmt.Sprintf("http://127.0.0.1:%d", apiPort): false,
	} {
		if got := preflight(t, api, origin); (got == origin) != allowed || (!allowed && got != "") {
			t.Errorf("preflight from %s: Access-Control-Allow-Origin %q, allowed %v", origin, got, allowed)
		}
	}
	warnings := ignoredWarnings(t, logs.String())
	if len(warnings) != 1 || !reflect.DeepEqual(warnings[0], []any{"legacy_recording", "signaling_notify"}) {
		t.Errorf("ignored-key warnings %v, want one naming legacy_recording and signaling_notify", warnings)
	}
}

// preflight sends a CORS preflight from origin and returns the
// Access-Control-Allow-Origin of the reply.
func preflight(t *testing.T, url, origin string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodOptions, url, nil)
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "x-sora-target")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.Header.Get("Access-Control-Allow-Origin")
}

// ignoredWarnings returns the keys of each "keys ... ignored" warning in
// JSON log lines.
func ignoredWarnings(t *testing.T, logs string) [][]any {
	t.Helper()
	var out [][]any
	sc := bufio.NewScanner(strings.NewReader(logs))
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		if rec["level"] == "WARN" && strings.Contains(fmt.Sprint(rec["msg"]), "does not implement") {
			keys, _ := rec["keys"].([]any)
			out = append(out, keys)
		}
	}
	return out
}
