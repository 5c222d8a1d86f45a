// Package h264 turns the RTP payloads of one H.264 access unit (RFC 6184,
// packetization mode 1) into the length-prefixed form MP4 stores, and parses
// the sequence parameters and builds the avcC record the container writers
// need.
package h264

import (
	"errors"
	"fmt"

	"github.com/kiroku-sfu/kiroku/mux"
	"github.com/kiroku-sfu/kiroku/mux/codec/internal/bits"
	"github.com/kiroku-sfu/kiroku/mux/codec/internal/nal"
)

// NAL unit and RTP payload types (ITU-T H.264 Table 7-1, RFC 6184 §5.2).
const (
	naluSlice   = 1
	naluIDR     = 5
	naluSPS     = 7
	naluPPS     = 8
	naluAUD     = 9
	naluFiller  = 12
	naluMaxType = 23
	pktSTAPA    = 24
	pktSTAPB    = 25
	pktMTAP16   = 26
	pktMTAP24   = 27
	pktFUA      = 28
	pktFUB      = 29

	forbiddenBit = 0x80
	fuStartBit   = 0x80
	fuEndBit     = 0x40
)

// ErrMissingParameterSets reports a keyframe whose SPS or PPS has not been
// seen. The stream cannot be written until a keyframe arrives with (or
// after) its parameter sets, so the caller should wait for the next one.
// It wraps mux.ErrMissingParameterSets.
var ErrMissingParameterSets = fmt.Errorf("h264: keyframe before its SPS/PPS: %w", mux.ErrMissingParameterSets)

var (
	errEmpty         = nal.ErrEmpty
	errForbidden     = errors.New("forbidden_zero_bit set")
	errNALType       = errors.New("NAL unit type not allowed here")
	errTruncated     = errors.New("truncated aggregation packet")
	errFUNoStart     = nal.ErrFUNoStart
	errFUInterrupted = nal.ErrFUInterrupted
	errNoSlice       = errors.New("access unit has no slice")
	errSliceHeader   = errors.New("slice header value out of range")
)

// newUnits returns the builder of one access unit's NAL units.
func newUnits(dst []byte) nal.Builder {
	return nal.NewBuilder(dst, nal.Format{HeaderLen: 1, ErrTruncated: errTruncated})
}

// Depacketizer reassembles H.264 access units for one RTP stream and
// remembers its parameter sets. It implements mux.FrameDepacketizer. It is
// not safe for concurrent use.
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
	slice    bool   // a slice has been seen
	bSlice   bool   // the first slice is a B slice
	ppsID    uint32 // PPS of the first slice
}

// AppendFrame appends the access unit carried by payloads to dst as 4-byte
// length-prefixed NAL units without SPS, PPS, AUD and filler data. SPS and
// PPS are remembered; a keyframe (IDR) gets a Config built from them. A
// stream that uses B-frames fails with an error wrapping mux.ErrReordering.
// Config is shared by every keyframe until a parameter set changes, so it
// must be treated as read-only. Parameter sets in a frame that fails for
// another reason are still remembered when they are themselves well formed.
func (d *Depacketizer) AppendFrame(dst []byte, payloads [][]byte) ([]byte, mux.FrameInfo, error) {
	f := frame{units: newUnits(dst)}
	for i, p := range payloads {
		if err := d.packet(&f, p); err != nil {
			return dst, mux.FrameInfo{}, fmt.Errorf("h264: depacketize packet %d of %d: %w", i+1, len(payloads), err)
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
	if len(payload) == 0 {
		return false
	}
	switch t := payload[0] & 0x1f; {
	case t >= naluSlice && t <= pktSTAPA:
		return true
	case t == pktFUA:
		return len(payload) > 1 && payload[1]&fuStartBit != 0
	}
	return false
}

func (d *Depacketizer) packet(f *frame, p []byte) error {
	if len(p) == 0 {
		return errEmpty
	}
	if p[0]&forbiddenBit != 0 {
		return errForbidden
	}
	t := p[0] & 0x1f
	if t != pktFUA && f.units.Fragmenting() {
		return errFUInterrupted
	}
	inspect := func(n []byte) (bool, error) { return d.inspect(f, n) }
	switch {
	case t >= naluSlice && t <= naluMaxType:
		return f.units.AppendUnit(p, inspect)
	case t == pktSTAPA:
		return f.units.AppendAggregated(p[1:], inspect)
	case t == pktFUA:
		return appendFUA(&f.units, p, inspect)
	case t == pktSTAPB || t == pktMTAP16 || t == pktMTAP24 || t == pktFUB:
		return fmt.Errorf("packet type %d (interleaved mode): %w", t, mux.ErrUnsupported)
	}
	return fmt.Errorf("packet type %d: %w", t, errNALType)
}

// appendFUA adds one FU-A packet to the NAL unit being rebuilt in units.
func appendFUA(units *nal.Builder, p []byte, inspect nal.Inspect) error {
	if len(p) < 2 {
		return errTruncated
	}
	t := p[1] & 0x1f
	if t < naluSlice || t > naluMaxType {
		return fmt.Errorf("fragment of type %d: %w", t, errNALType)
	}
	return units.AppendFragment(nal.Fragment{
		Type:   t,
		Start:  p[1]&fuStartBit != 0,
		End:    p[1]&fuEndBit != 0,
		Header: [2]byte{p[0]&0xe0 | t},
		Data:   p[2:],
	}, inspect)
}

// inspect checks a complete NAL unit, stores parameter sets, notes slices
// and reports whether the unit belongs in the output.
func (d *Depacketizer) inspect(f *frame, n []byte) (bool, error) {
	if n[0]&forbiddenBit != 0 {
		return false, errForbidden
	}
	switch t := n[0] & 0x1f; t {
	case naluSPS:
		return false, d.params.putSPS(n)
	case naluPPS:
		return false, d.params.putPPS(n)
	case naluAUD, naluFiller:
		return false, nil
	case naluSlice, naluIDR:
		f.keyframe = f.keyframe || t == naluIDR
		if !f.slice {
			f.slice = true
			return true, readSliceStart(f, n)
		}
	case 0, 24, 25, 26, 27, 28, 29, 30, 31:
		return false, fmt.Errorf("NAL unit type %d: %w", t, errNALType)
	}
	return true, nil
}

// readSliceStart reads the first fields of a slice header (§7.3.3).
func readSliceStart(f *frame, n []byte) error {
	r := bits.NewReader(n[1:])
	r.UE() // first_mb_in_slice
	sliceType := r.UEMax(9, errSliceHeader)
	f.ppsID = r.UEMax(maxPPSID, errSliceHeader)
	if err := r.Err(); err != nil {
		return fmt.Errorf("read slice header: %w", err)
	}
	f.bSlice = sliceType%5 == 1
	return nil
}

// finish checks the assembled access unit and describes it.
func (d *Depacketizer) finish(f *frame) (mux.FrameInfo, error) {
	if f.units.Fragmenting() {
		return mux.FrameInfo{}, fmt.Errorf("h264: depacketize: %w", errFUInterrupted)
	}
	if !f.slice {
		return mux.FrameInfo{}, fmt.Errorf("h264: depacketize: %w", errNoSlice)
	}
	if f.bSlice {
		return mux.FrameInfo{}, fmt.Errorf("h264: B slice: %w", mux.ErrReordering)
	}
	if sps, ok := d.params.spsFor(f.ppsID); ok && sps.MaxNumReorderFrames > 0 {
		return mux.FrameInfo{}, fmt.Errorf("h264: SPS %d allows %d reordered frames: %w",
			sps.ID, sps.MaxNumReorderFrames, mux.ErrReordering)
	}
	if !f.keyframe {
		return mux.FrameInfo{}, nil
	}
	cfg, err := d.params.config(f.ppsID)
	if err != nil {
		return mux.FrameInfo{}, err
	}
	return mux.FrameInfo{Keyframe: true, Config: cfg}, nil
}
