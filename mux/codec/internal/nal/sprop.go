package nal

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// Bounds on what an fmtp may hand to a depacketizer: an SDP line is
// untrusted input, and parameter sets are small.
const (
	maxSpropUnits = 32
	maxSpropBytes = 64 << 10
)

// ErrSprop reports an sprop entry that was skipped.
var ErrSprop = errors.New("malformed sprop entry")

// FmtpValue returns the value of the SDP format parameter key (compared
// without regard to letter case) in fmtp, the a=fmtp value after the
// payload type, and whether it is present.
func FmtpValue(fmtp, key string) (string, bool) {
	for _, param := range strings.Split(fmtp, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(param), "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), key) {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

// DecodeSprop decodes a comma-separated list of base64 NAL units, the
// form of sprop-parameter-sets and sprop-vps/sps/pps (RFC 6184 §8.1,
// RFC 7798 §7.1). Padding is optional. Entries that are not base64 or
// shorter than headerLen+1 bytes are skipped and described in the
// returned error; the units that decoded are returned in order either way.
// At most 32 units and 64 KiB are decoded.
func DecodeSprop(list string, headerLen int) ([][]byte, error) {
	var (
		units [][]byte
		errs  []error
		total int
	)
	for i, entry := range strings.Split(list, ",") {
		entry = strings.TrimRight(strings.TrimSpace(entry), "=")
		if entry == "" {
			continue
		}
		if len(units) == maxSpropUnits || total+len(entry) > maxSpropBytes*4/3 {
			errs = append(errs, fmt.Errorf("entry %d: over %d units or %d bytes: %w", i+1, maxSpropUnits, maxSpropBytes, ErrSprop))
			break
		}
		u, err := base64.RawStdEncoding.DecodeString(entry)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("entry %d: %w: %w", i+1, ErrSprop, err))
		case len(u) <= headerLen:
			errs = append(errs, fmt.Errorf("entry %d: %d bytes: %w", i+1, len(u), ErrSprop))
		default:
			units = append(units, u)
			total += len(entry)
		}
	}
	return units, errors.Join(errs...)
}
