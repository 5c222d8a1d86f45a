package h264

import (
	"fmt"
	"strings"

	"github.com/kiroku-sfu/kiroku/mux"
)

// CheckFmtp reports whether a stream negotiated with the SDP format
// parameters fmtp (the a=fmtp value after the payload type, such as
// "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f")
// can be depacketized: packetization modes 0 and 1 can, the interleaved
// mode 2 fails with an error wrapping mux.ErrUnsupported.
func CheckFmtp(fmtp string) error {
	for _, param := range strings.Split(fmtp, ";") {
		key, value, _ := strings.Cut(strings.TrimSpace(param), "=")
		if !strings.EqualFold(key, "packetization-mode") {
			continue
		}
		switch strings.TrimSpace(value) {
		case "0", "1":
		case "2":
			return fmt.Errorf("h264: packetization-mode 2 (interleaved): %w", mux.ErrUnsupported)
		default:
			return fmt.Errorf("h264: packetization-mode %q: %w", value, mux.ErrUnsupported)
		}
	}
	return nil
}
