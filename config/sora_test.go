package config

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

func TestLoadSoraWarnsOnceForSoraKeys(t *testing.T) {
	const file = `signaling_listen_port = 5000
legacy_recording = true
# a comment
stats_exporter_tls_verify_cacert_file = /etc/ssl/ca.pem
archive_dir = /srv/archive
signaling_notify = false
`
	path := filepath.Join(t.TempDir(), "sora.conf")
	if err := os.WriteFile(path, []byte(file), 0o644); err != nil {
		t.Fatal(err)
	}
	var s serverConf
	var a archiveConf
	w, err := LoadSora(path, &s, &a)
	if err != nil {
		t.Fatal(err)
	}
	if s.Port != 5000 || a.Dir != "/srv/archive" {
		t.Errorf("kiroku's keys not applied: %+v %+v", s, a)
	}
	if w == nil || strings.Join(w.Names(), " ") != "legacy_recording stats_exporter_tls_verify_cacert_file signaling_notify" {
		t.Fatalf("warning = %+v", w)
	}
	if w.Keys[1].Line != 4 || w.Keys[1].Reason == "" {
		t.Errorf("ignored key = %+v", w.Keys[1])
	}
	msg := w.String()
	for _, want := range []string{path, "legacy_recording (line 2: ", "signaling_notify (line 6: ", "not implement"} {
		if !strings.Contains(msg, want) || strings.Contains(msg, "\n") {
			t.Errorf("warning %q lacks %q or spans lines", msg, want)
		}
	}
	if w, err := DecodeSora("x", strings.NewReader("archive_dir = a\n"), &a); w != nil || err != nil {
		t.Errorf("no Sora keys: warning %v, err %v", w, err)
	}
}

func TestUnknownKeysStayErrors(t *testing.T) {
	for _, tc := range []struct {
		name, file, want string
		sora             bool
	}{
		{"typo of a kiroku key", "archive_dri = x\n", "archive_dri: unknown key; did you mean archive_dir?", true},
		{"typo, strict", "signaling_listen_prot = 1\n", "unknown key; did you mean signaling_listen_port?", false},
		{"typo of a Sora key", "legacy_recordin = true\n", "did you mean legacy_recording?", true},
		{"Sora key not suggested in strict mode", "legacy_recordin = true\n", "legacy_recordin: unknown key", false},
		{"nothing close", "colour_scheme = dark\n", "colour_scheme: unknown key", true},
		{"Sora key in a strict file", "legacy_recording = true\n", "legacy_recording: a key of Sora's that kiroku does not implement (", false},
		{"bad value of a known key", "upload_workers = x\nlegacy_recording = true\n", "want an integer", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s serverConf
			var a archiveConf
			var err error
			if tc.sora {
				_, err = DecodeSora("t.conf", strings.NewReader(tc.file), &s, &a)
			} else {
				err = Decode("t.conf", strings.NewReader(tc.file), &s, &a)
			}
			var ce *Error
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want *Error containing %q", err, tc.want)
			}
			if strings.HasSuffix(tc.want, "unknown key") && strings.Contains(err.Error(), "did you mean") {
				t.Errorf("err = %v suggests a key", err)
			}
		})
	}
}

func TestClosest(t *testing.T) {
	keys := []string{"archive_dir", "archive_tmp_dir", "turn", "turn_port", "log_dir"}
	for _, tc := range []struct{ key, want string }{
		{"archive_dri", "archive_dir"},
		{"archivedir", "archive_dir"},
		{"archive_tmpdir", "archive_tmp_dir"},
		{"trun", "turn"},
		{"turn_prot", "turn_port"},
		{"log_dirs", "log_dir"},
		{"xyz", ""},
		{"webhook_url", ""},
	} {
		if got := closest(tc.key, keys); got != tc.want {
			t.Errorf("closest(%q) = %q, want %q", tc.key, got, tc.want)
		}
	}
	if d := editDistance("kitten", "sitting"); d != 3 {
		t.Errorf("editDistance = %d", d)
	}
}

// TestSoraKeysCoverTheSeeds checks that every sora.conf key the Sora
// documents in shared/seeds and shared/spec name is either one kiroku
// implements (listed in sora.example.conf) or in SoraKeys, with a reason.
func TestSoraKeysCoverTheSeeds(t *testing.T) {
	example, err := os.ReadFile("../sora.example.conf")
	if err != nil {
		t.Fatal(err)
	}
	implemented := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^#?\s*([a-z0-9_]+)\s*=`).FindAllStringSubmatch(string(example), -1) {
		implemented[m[1]] = true
	}
	sora := map[string]bool{}
	for _, k := range SoraKeys() {
		if k.Reason == "" || sora[k.Name] || implemented[k.Name] {
			t.Errorf("SoraKeys entry %q: empty reason, listed twice, or implemented", k.Name)
		}
		sora[k.Name] = true
	}
	if !sort.SliceIsSorted(SoraKeys(), func(i, j int) bool { return SoraKeys()[i].Name < SoraKeys()[j].Name }) {
		t.Error("SoraKeys is not sorted by name")
	}
	// seedKeys are the sora.conf keys named by Sora's documents in
	// shared/seeds (production checklist, TURN over 443, session webhooks,
	// recording) and by shared/spec/sora-protocol.md §3-§4.
	seedKeys := []string{
		"ipv4_address", "ipv6", "turn", "turn_fqdn", "turn_realm", "turn_tcp", "turn_tcp_listen_port",
		"turn_tcp_port", "turn_tls", "turn_tls_fqdn", "turn_tls_port",
		"webhook_tls_verify_cacert_file", "audio_streaming_tls_verify_cacert_file",
		"stats_exporter_tls_verify_cacert_file", "api_loopback_address_only",
		"signaling_loopback_address_only", "auth_webhook_url", "session_webhook_url",
		"event_webhook_url", "ignore_session_vanished_webhook", "archive_dir", "archive_tmp_dir",
		"default_recording_format", "recording_dual_output", "default_recording_mp4_pli_interval",
		"recording_max_expire_time", "recording_max_split_duration", "legacy_recording",
		"signaling_notify", "signaling_bundle_id", "data_channel_signaling_close_message",
	}
	for _, key := range seedKeys {
		if !implemented[key] && !sora[key] {
			t.Errorf("sora.conf key %q named by the seeds is neither implemented nor in SoraKeys", key)
		}
	}
}
