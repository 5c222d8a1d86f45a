// Package h265 turns the RTP payloads of one H.265 access unit (RFC 7798,
// without decoding order numbers) into the length-prefixed form MP4 stores,
// and parses the sequence parameters and builds the hvcC record the
// container writers need.
package h265

import (
	"errors"
	"fmt"

	"github.com/kiroku-sfu/kiroku/mux"
	"github.com/kiroku-sfu/kiroku/mux/codec/internal/bits"
	"github.com/kiroku-sfu/kiroku/mux/codec/internal/nal"
)

// NAL unit and RTP payload types (ITU-T H.265 Table 7-1, RFC 7798 §4.4).
const (
	naluMaxVCL   = 31
	naluRASLN    = 8  // RASL_N
	naluRASLR    = 9  // RASL_R
	naluIRAPMin  = 16 // BLA_W_LP
	naluCRA      = 21 // the last IRAP type that is not reserved
	naluIRAPMax  = 23 // RSV_IRAP_VCL23
	naluVPS      = 32
	naluSPS      = 33
	naluPPS      = 34
	naluAUD      = 35
	naluMaxType  = 47
	pktAP        = 48
	pktFU        = 49
	pktPACI      = 50
	forbiddenBit = 0x80
	fuStartBit   = 0x80
	fuEndBit     = 0x40
)

// ErrMissingParameterSets reports a keyframe whose VPS, SPS or PPS has not
// been seen. The stream cannot be written until a keyframe arrives with (or
// after) its parameter sets, so the caller should wait for the next one.
// It wraps mux.ErrMissingParameterSets.
var ErrMissingParameterSets = fmt.Errorf("h265: keyframe before its VPS/SPS/PPS: %w", mux.ErrMissingParameterSets)

var (
	errEmpty         = nal.ErrEmpty
	errForbidden     = errors.New("forbidden_zero_bit set")
	errTemporalID    = errors.New("nuh_temporal_id_plus1 is 0")
	errNALType       = errors.New("NAL unit type not allowed here")
	errTruncated     = errors.New("truncated packet")
	errFUNoStart     = nal.ErrFUNoStart
	errFUInterrupted = nal.ErrFUInterrupted
	errNoSlice       = errors.New("access unit has no slice segment")
)

// newUnits returns the builder of one access unit's NAL units.
func newUnits(dst []byte) nal.Builder {
	return nal.NewBuilder(dst, nal.Format{HeaderLen: 2, ErrTruncated: errTruncated})
}

func nalType(n []byte) byte { return n[0] >> 1 & 0x3f }
func layerID(n []byte) byte { return n[0]&1<<5 | n[1]>>3 }
func isIRAP(t byte) bool    { return t >= naluIRAPMin && t <= naluIRAPMax }

// isRandomAccess reports whether a slice of type t starts a picture at which
// decoding can begin: BLA, IDR or CRA (types 16-21). Reserved IRAP types
// 22 and 23 are not, since decoders ignore them.
func isRandomAccess(t byte) bool { return t >= naluIRAPMin && t <= naluCRA }
func validHeader(n []byte) error {
	if n[0]&forbiddenBit != 0 {
		return errForbidden
	}
	if n[1]&7 == 0 {
		return errTemporalID
	}
	return nil
}

// Depacketizer reassembles H.265 access units for one RTP stream and
// remembers its parameter sets. It implements mux.FrameDepacketizer for
// streams whose sprop-max-don-diff is 0 (no DONL fields), which is what
// WebRTC senders use. It is not safe for concurrent use.
type Depacketizer struct {
	params paramSets
}

// NewDepacketizer returns a Depacketizer with no parameter sets yet.
func NewDepacketizer() *Depacketizer {
	return &Depacketizer{}
}

var _ mux.FrameDepacketizer = (*Depacketizer)(nil)

// frame is the state of one AppendFrame call.
type frame struct {
	units    nal.Builder
	keyframe bool
	rasl     bool   // a RASL slice segment has been seen
	slice    bool   // a slice segment has been seen
	ppsID    uint32 // PPS of the first slice segment
}

// AppendFrame appends the access unit carried by payloads to dst as 4-byte
// length-prefixed NAL units without VPS, SPS, PPS and AUD; SEI and every
// other NAL unit are kept. Parameter sets are remembered; a keyframe (an
// IRAP picture of type 16-21: BLA, IDR or CRA) gets a Config built from
// them; a RASL picture is marked SkipAtRandomAccess, since it refers to
// pictures before its CRA/BLA picture. A stream whose SPS allows
// picture reordering fails with an error wrapping mux.ErrReordering.
// Config is shared by every keyframe until a parameter set changes, so it
// must be treated as read-only. Parameter sets in a frame that fails for
// another reason are still remembered when they are themselves well formed.
func (d *Depacketizer) AppendFrame(dst []byte, payloads [][]byte) ([]byte, mux.FrameInfo, error) {
	f := frame{units: newUnits(dst)}
	for i, p := range payloads {
		if err := d.packet(&f, p); err != nil {
			return dst, mux.FrameInfo{}, fmt.Errorf("h265: depacketize packet %d of %d: %w", i+1, len(payloads), err)
		}
	}
	info, err := d.finish(&f)
	if err != nil {
		return dst, mux.FrameInfo{}, err
	}
	return f.units.Bytes(), info, nil
}

// IsFrameStart reports whether payload is a single NAL unit, an
// aggregation packet or the first fragment of a NAL unit.
func (d *Depacketizer) IsFrameStart(payload []byte) bool {
	if len(payload) < 2 {
		return false
	}
	switch t := nalType(payload); {
	case t <= pktAP:
		return true
	case t == pktFU:
		return len(payload) > 2 && payload[2]&fuStartBit != 0
	}
	return false
}

func (d *Depacketizer) packet(f *frame, p []byte) error {
	if len(p) < 2 {
		return errTruncated
	}
	if err := validHeader(p); err != nil {
		return err
	}
	t := nalType(p)
	if t != pktFU && f.units.Fragmenting() {
		return errFUInterrupted
	}
	inspect := func(n []byte) (bool, error) { return d.inspect(f, n) }
	switch {
	case t <= naluMaxType:
		return f.units.AppendUnit(p, inspect)
	case t == pktAP:
		// Without DONL each aggregation unit is a 2-byte size and a NAL unit.
		return f.units.AppendAggregated(p[2:], inspect)
	case t == pktFU:
		return appendFU(&f.units, p, inspect)
	case t == pktPACI:
		return fmt.Errorf("PACI packet: %w", mux.ErrUnsupported)
	}
	return fmt.Errorf("packet type %d: %w", t, errNALType)
}

// appendFU adds one FU packet to the NAL unit being rebuilt in units.
func appendFU(units *nal.Builder, p []byte, inspect nal.Inspect) error {
	if len(p) < 3 {
		return errTruncated
	}
	t := p[2] & 0x3f
	if t > naluMaxType {
		return fmt.Errorf("fragment of type %d: %w", t, errNALType)
	}
	return units.AppendFragment(nal.Fragment{
		Type:   t,
		Start:  p[2]&fuStartBit != 0,
		End:    p[2]&fuEndBit != 0,
		Header: [2]byte{p[0]&0x81 | t<<1, p[1]},
		Data:   p[3:],
	}, inspect)
}

// inspect checks a complete NAL unit (at least 2 bytes), stores parameter
// sets, notes slice segments and reports whether the unit belongs in the
// output.
func (d *Depacketizer) inspect(f *frame, n []byte) (bool, error) {
	if err := validHeader(n); err != nil {
		return false, err
	}
	switch t := nalType(n); {
	case t >= naluVPS && t <= naluPPS && layerID(n) != 0:
		return false, nil // an enhancement layer's: base-layer decoders ignore it
	case t == naluVPS:
		return false, d.params.putVPS(n)
	case t == naluSPS:
		return false, d.params.putSPS(n)
	case t == naluPPS:
		return false, d.params.putPPS(n)
	case t == naluAUD:
		return false, nil
	case t > naluMaxType:
		return false, fmt.Errorf("NAL unit type %d: %w", t, errNALType)
	case t <= naluMaxVCL:
		f.keyframe = f.keyframe || isRandomAccess(t)
		f.rasl = f.rasl || t == naluRASLN || t == naluRASLR
		if !f.slice {
			f.slice = true
			return true, readSliceStart(f, n)
		}
	}
	return true, nil
}

// readSliceStart reads the slice segment header up to the PPS id (§7.3.6.1).
func readSliceStart(f *frame, n []byte) error {
	r := bits.NewReader(n[2:])
	r.Skip(1) // first_slice_segment_in_pic_flag
	if isIRAP(nalType(n)) {
		r.Skip(1) // no_output_of_prior_pics_flag
	}
	f.ppsID = r.UEMax(maxPPSID, errSPSValue)
	if err := r.Err(); err != nil {
		return fmt.Errorf("read slice segment header: %w", err)
	}
	return nil
}

// finish checks the assembled access unit and describes it.
func (d *Depacketizer) finish(f *frame) (mux.FrameInfo, error) {
	if f.units.Fragmenting() {
		return mux.FrameInfo{}, fmt.Errorf("h265: depacketize: %w", errFUInterrupted)
	}
	if !f.slice {
		return mux.FrameInfo{}, fmt.Errorf("h265: depacketize: %w", errNoSlice)
	}
	if sps, ok := d.params.spsFor(f.ppsID); ok && sps.MaxNumReorderPics > 0 {
		return mux.FrameInfo{}, fmt.Errorf("h265: SPS %d allows %d reordered pictures: %w",
			sps.ID, sps.MaxNumReorderPics, mux.ErrReordering)
	}
	if !f.keyframe {
		return mux.FrameInfo{SkipAtRandomAccess: f.rasl}, nil
	}
	cfg, err := d.params.config(f.ppsID)
	if err != nil {
		return mux.FrameInfo{}, err
	}
	return mux.FrameInfo{Keyframe: true, Config: cfg}, nil
}
