package h264

import (
	"errors"
	"fmt"
	"strings"

	"github.com/kiroku-sfu/kiroku/mux/codec/internal/nal"
)

// Seed stores the parameter sets that the SDP format parameters fmtp carry
// out of band: sprop-level-parameter-sets first ("PLID:SETS[:PLID:SETS]",
// RFC 6184 §8.1), then sprop-parameter-sets, so that the latter win where
// both define an id. In-band SPS and PPS replace them when they arrive.
// Entries that are malformed or not an SPS/PPS are skipped and described
// in the returned error; the well-formed ones are stored regardless, so a
// caller may treat the error as a warning.
func (d *Depacketizer) Seed(fmtp string) error {
	var errs []error
	if v, ok := nal.FmtpValue(fmtp, "sprop-level-parameter-sets"); ok {
		for _, part := range levelSetLists(v) {
			errs = append(errs, d.seedList("sprop-level-parameter-sets", part))
		}
	}
	if v, ok := nal.FmtpValue(fmtp, "sprop-parameter-sets"); ok {
		errs = append(errs, d.seedList("sprop-parameter-sets", v))
	}
	return errors.Join(errs...)
}

// seedList stores every SPS and PPS of one comma-separated base64 list.
func (d *Depacketizer) seedList(key, list string) error {
	units, err := nal.DecodeSprop(list, 1)
	errs := []error{err}
	for _, u := range units {
		switch u[0] & 0x1f {
		case naluSPS:
			errs = append(errs, d.params.putSPS(u))
		case naluPPS:
			errs = append(errs, d.params.putPPS(u))
		default:
			errs = append(errs, fmt.Errorf("NAL unit type %d: %w", u[0]&0x1f, nal.ErrSprop))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("h264: %s: %w", key, err)
	}
	return nil
}

// levelSetLists returns the parameter set lists of an
// sprop-level-parameter-sets value, leaving out the profile-level-id that
// precedes each; a value without them is one list.
func levelSetLists(v string) []string {
	parts := strings.Split(v, ":")
	var lists []string
	for i, p := range parts {
		if i < len(parts)-1 && isProfileLevelID(p) {
			continue
		}
		lists = append(lists, p)
	}
	return lists
}

// isProfileLevelID reports whether s is six hexadecimal digits.
func isProfileLevelID(s string) bool {
	s = strings.TrimSpace(s)
	if len(s) != 6 {
		return false
	}
	for _, c := range s {
		if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
			return false
		}
	}
	return true
}
