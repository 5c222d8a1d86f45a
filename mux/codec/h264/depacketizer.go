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
var ErrMissingParameterSets = errors.New("h264: keyframe before its SPS/PPS")

var (
	errEmpty         = errors.New("empty payload or NAL unit")
	errForbidden     = errors.New("forbidden_zero_bit set")
	errNALType       = errors.New("NAL unit type not allowed here")
	errTruncated     = errors.New("truncated aggregation packet")
	errFUNoStart     = errors.New("fragmentation unit without a start")
	errFUInterrupted = errors.New("fragmented NAL unit not finished")
	errNoSlice       = errors.New("access unit has no slice")
	errSliceHeader   = errors.New("slice header value out of range")
)

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
	dst      []byte
	fuStart  int // offset in dst of the length prefix of an unfinished FU-A, or -1
	fuType   byte
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
	f := frame{dst: dst, fuStart: -1}
	for i, p := range payloads {
		if err := d.packet(&f, p); err != nil {
			return dst, mux.FrameInfo{}, fmt.Errorf("h264: depacketize packet %d of %d: %w", i+1, len(payloads), err)
		}
	}
	info, err := d.finish(&f)
	if err != nil {
		return dst, mux.FrameInfo{}, err
	}
	return f.dst, info, nil
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
	if t != pktFUA && f.fuStart >= 0 {
		return errFUInterrupted
	}
	switch {
	case t >= naluSlice && t <= naluMaxType:
		return d.nal(f, p)
	case t == pktSTAPA:
		return d.stapA(f, p[1:])
	case t == pktFUA:
		return d.fuA(f, p)
	case t == pktSTAPB || t == pktMTAP16 || t == pktMTAP24 || t == pktFUB:
		return fmt.Errorf("packet type %d (interleaved mode): %w", t, mux.ErrUnsupported)
	}
	return fmt.Errorf("packet type %d: %w", t, errNALType)
}

// stapA handles the aggregation units of a STAP-A payload (after its header).
func (d *Depacketizer) stapA(f *frame, units []byte) error {
	if len(units) == 0 {
		return errTruncated
	}
	for len(units) > 0 {
		if len(units) < 2 {
			return errTruncated
		}
		size := int(units[0])<<8 | int(units[1])
		units = units[2:]
		if size == 0 {
			return errEmpty
		}
		if size > len(units) {
			return errTruncated
		}
		if err := d.nal(f, units[:size]); err != nil {
			return err
		}
		units = units[size:]
	}
	return nil
}

// fuA appends one fragment to the NAL unit being rebuilt in f.dst.
func (d *Depacketizer) fuA(f *frame, p []byte) error {
	if len(p) < 2 {
		return errTruncated
	}
	t := p[1] & 0x1f
	if t < naluSlice || t > naluMaxType {
		return fmt.Errorf("fragment of type %d: %w", t, errNALType)
	}
	if p[1]&fuStartBit != 0 {
		if f.fuStart >= 0 {
			return errFUInterrupted
		}
		f.fuStart, f.fuType = len(f.dst), t
		// A start fragment may also carry the end bit; RFC 6184 forbids
		// it but the NAL unit is complete, so it is accepted.
		f.dst = append(f.dst, 0, 0, 0, 0, p[0]&0xe0|t)
	} else if f.fuStart < 0 || f.fuType != t {
		return errFUNoStart
	}
	f.dst = append(f.dst, p[2:]...)
	if p[1]&fuEndBit == 0 {
		return nil
	}
	at := f.fuStart
	f.fuStart = -1
	keep, err := d.inspect(f, f.dst[at+4:])
	if err != nil || !keep {
		f.dst = f.dst[:at]
		return err
	}
	putLength(f.dst[at:], len(f.dst)-at-4)
	return nil
}

// nal handles one complete NAL unit from a single-NAL or STAP-A packet.
func (d *Depacketizer) nal(f *frame, n []byte) error {
	keep, err := d.inspect(f, n)
	if err != nil || !keep {
		return err
	}
	f.dst = append(f.dst, 0, 0, 0, 0)
	putLength(f.dst[len(f.dst)-4:], len(n))
	f.dst = append(f.dst, n...)
	return nil
}

func putLength(b []byte, n int) {
	b[0], b[1], b[2], b[3] = byte(n>>24), byte(n>>16), byte(n>>8), byte(n)
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
	if f.fuStart >= 0 {
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
