package h265

import (
	"errors"
	"fmt"

	"github.com/kiroku-sfu/kiroku/mux/codec/internal/nal"
)

// spropKeys are the fmtp parameters that carry parameter sets out of band
// (RFC 7798 §7.1), in the order Seed stores them.
var spropKeys = [...]struct {
	key  string
	want byte // the NAL unit type the parameter must hold
}{
	{"sprop-vps", naluVPS},
	{"sprop-sps", naluSPS},
	{"sprop-pps", naluPPS},
}

// Seed stores the parameter sets that the SDP format parameters fmtp carry
// out of band in sprop-vps, sprop-sps and sprop-pps. In-band parameter sets
// replace them when they arrive. Entries that are malformed, of another
// NAL unit type or of an enhancement layer are skipped and described in
// the returned error; the well-formed ones are stored regardless, so a
// caller may treat the error as a warning.
func (d *Depacketizer) Seed(fmtp string) error {
	var errs []error
	for _, k := range spropKeys {
		v, ok := nal.FmtpValue(fmtp, k.key)
		if !ok {
			continue
		}
		units, err := nal.DecodeSprop(v, 2)
		errs = append(errs, wrapKey(k.key, err))
		for _, u := range units {
			errs = append(errs, wrapKey(k.key, d.seedUnit(u, k.want)))
		}
	}
	return errors.Join(errs...)
}

// seedUnit stores one out-of-band parameter set of type want.
func (d *Depacketizer) seedUnit(u []byte, want byte) error {
	if err := validHeader(u); err != nil {
		return fmt.Errorf("%w: %w", nal.ErrSprop, err)
	}
	if t := nalType(u); t != want || layerID(u) != 0 {
		return fmt.Errorf("NAL unit type %d of layer %d: %w", t, layerID(u), nal.ErrSprop)
	}
	switch want {
	case naluVPS:
		return d.params.putVPS(u)
	case naluSPS:
		return d.params.putSPS(u)
	}
	return d.params.putPPS(u)
}

func wrapKey(key string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("h265: %s: %w", key, err)
}
