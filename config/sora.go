package config

import (
	"fmt"
	"os"
	"strings"
)

// SoraKey is a key of Sora's sora.conf that kiroku does not implement,
// with the reason. A sora.conf that sets one still loads (LoadSora): the
// key is ignored and named in one warning.
type SoraKey struct {
	Name   string
	Reason string
}

// SoraKeys lists the sora.conf keys kiroku knows from Sora's
// documentation but does not implement. Keys kiroku implements are
// claimed by a component's Config and never appear here.
func SoraKeys() []SoraKey {
	return []SoraKey{
		{"audio_streaming_tls_verify_cacert_file", "kiroku has no audio streaming"},
		{"data_channel_signaling_close_message", "kiroku always sends the close message over the signaling DataChannel"},
		{"legacy_recording", "only session recording exists (StartRecording, the session.created reply), as in current Sora"},
		{"signaling_bundle_id", "kiroku always accepts bundle_id in connect"},
		{"signaling_notify", "signaling notify is always on"},
		{"stats_exporter_tls_verify_cacert_file", "kiroku has no stats exporter"},
	}
}

// soraReason returns the reason kiroku ignores a Sora key, ok false for a
// key Sora does not have (as far as SoraKeys knows).
func soraReason(key string) (reason string, ok bool) {
	for _, k := range SoraKeys() {
		if k.Name == key {
			return k.Reason, true
		}
	}
	return "", false
}

// Ignored is one line of a file that set a SoraKey.
type Ignored struct {
	Key    string
	Line   int
	Reason string
}

// Warning names every Sora key a file set that kiroku does not implement.
// The file still loaded; these keys changed nothing.
type Warning struct {
	File string
	Keys []Ignored
}

// Names lists the ignored keys in file order.
func (w *Warning) Names() []string {
	names := make([]string, len(w.Keys))
	for i, k := range w.Keys {
		names[i] = k.Key
	}
	return names
}

// String is one line naming each ignored key with its line and reason.
func (w *Warning) String() string {
	parts := make([]string, len(w.Keys))
	for i, k := range w.Keys {
		parts[i] = fmt.Sprintf("%s (line %d: %s)", k.Key, k.Line, k.Reason)
	}
	return fmt.Sprintf("%s: sora.conf keys kiroku does not implement, ignored: %s", w.File, strings.Join(parts, "; "))
}

// LoadSora reads a sora.conf like Load, except that keys of Sora's that
// kiroku does not implement (SoraKeys) are skipped and returned in one
// Warning (nil when there are none) instead of failing the load. A key
// neither kiroku nor Sora knows is still an error.
func LoadSora(path string, targets ...any) (*Warning, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	return decode(path, f, true, targets)
}
