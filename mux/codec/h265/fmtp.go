package h265

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/kiroku-sfu/kiroku/mux"
)

// CheckFmtp reports whether a stream negotiated with the SDP format
// parameters fmtp (the a=fmtp value after the payload type) can be
// depacketized. Streams whose sprop-max-don-diff or sprop-depack-buf-nalus
// is above 0 carry decoding order numbers (DONL/DOND) and fail with an
// error wrapping mux.ErrUnsupported, as does a malformed value of either.
func CheckFmtp(fmtp string) error {
	for _, param := range strings.Split(fmtp, ";") {
		key, value, _ := strings.Cut(strings.TrimSpace(param), "=")
		if !strings.EqualFold(key, "sprop-max-don-diff") && !strings.EqualFold(key, "sprop-depack-buf-nalus") {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSpace(value), 10, 32)
		if err != nil {
			return fmt.Errorf("h265: %s=%q: %w", key, value, mux.ErrUnsupported)
		}
		if n > 0 {
			return fmt.Errorf("h265: %s=%d (decoding order numbers): %w", key, n, mux.ErrUnsupported)
		}
	}
	return nil
}
