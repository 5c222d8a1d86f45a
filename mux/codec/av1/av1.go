// Package av1 turns the RTP payloads of one AV1 temporal unit (the AV1 RTP
// payload format, aomediacodec.github.io/av1-rtp-spec) into a temporal unit
// in low-overhead bitstream format, and parses sequence headers into the
// av1C configuration record (AV1-ISOBMFF §2.3.3).
package av1

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/kiroku-sfu/kiroku/mux"
)

// Errors returned for malformed temporal units.
var (
	ErrNoPayloads        = errors.New("av1: no payloads")
	ErrBadPayload        = errors.New("av1: malformed RTP payload")
	ErrNotFrameStart     = errors.New("av1: first packet continues an OBU from an earlier temporal unit")
	ErrFragment          = errors.New("av1: OBU fragments do not join up")
	ErrEmptyTemporalUnit = errors.New("av1: temporal unit holds no OBUs")
)

// aggregationHeader is the first byte of every AV1 RTP payload (§4.4).
type aggregationHeader struct {
	z bool // the first OBU element continues one from the previous packet
	y bool // the last OBU element continues in the next packet
	w int  // number of OBU elements, the last without a length; 0: all have one
	n bool // first packet of a coded video sequence: a hint kiroku does not rely on
}

func parseAggregationHeader(b byte) aggregationHeader {
	return aggregationHeader{z: b&0x80 != 0, y: b&0x40 != 0, w: int(b >> 4 & 0x03), n: b&0x08 != 0}
}

// temporalUnit records what AppendFrame saw in the temporal unit it writes.
type temporalUnit struct {
	seqStart, seqEnd int // the first sequence header OBU in dst; seqEnd 0 if none
	seq              SequenceHeader
	frameSeen        bool
	first            frameStart // the first frame header
}

// Depacketizer implements mux.FrameDepacketizer for AV1. It keeps the OBU
// fragment being reassembled, the last sequence header and configuration,
// so each RTP stream needs its own instance; a returned Config must not be
// modified.
type Depacketizer struct {
	frag         []byte
	fragPending  bool
	reducedStill bool   // of the last sequence header seen
	seqOBU       []byte // the sequence header behind config
	config       *mux.VideoConfig
}

// NewDepacketizer returns an AV1 depacketizer for one RTP stream.
func NewDepacketizer() *Depacketizer { return &Depacketizer{} }

var _ mux.FrameDepacketizer = (*Depacketizer)(nil)

// IsFrameStart reports whether payload's first OBU element starts an OBU
// (Z = 0), as the first packet of a temporal unit must.
func (d *Depacketizer) IsFrameStart(payload []byte) bool {
	return len(payload) > 0 && payload[0]&0x80 == 0
}

// AppendFrame appends the temporal unit carried by payloads to dst: every
// OBU, reassembled from fragments, with obu_has_size_field set and its
// obu_size, except temporal delimiters, tile lists and padding. A temporal
// unit is a keyframe when it holds a sequence header and its first frame is
// a shown key frame; the N bit is not trusted. A temporal unit whose first
// frame shows an earlier hidden key frame (show_existing_frame) is not a
// keyframe here: that key frame's data lives in an earlier temporal unit, so
// a file starting with it could not be decoded.
func (d *Depacketizer) AppendFrame(dst []byte, payloads [][]byte) ([]byte, mux.FrameInfo, error) {
	start := len(dst)
	out, tu, err := d.appendTU(dst, payloads)
	if err == nil && len(out) == start {
		err = ErrEmptyTemporalUnit
	}
	if err != nil {
		return dst[:start], mux.FrameInfo{}, err
	}
	info, err := d.frameInfo(out, &tu)
	if err != nil {
		return dst[:start], mux.FrameInfo{}, err
	}
	return out, info, nil
}

func (d *Depacketizer) appendTU(dst []byte, payloads [][]byte) ([]byte, temporalUnit, error) {
	var tu temporalUnit
	if len(payloads) == 0 {
		return dst, tu, ErrNoPayloads
	}
	d.frag, d.fragPending = d.frag[:0], false
	for i, p := range payloads {
		if len(p) < 2 {
			return dst, tu, fmt.Errorf("%w: packet %d has %d bytes", ErrBadPayload, i, len(p))
		}
		agg := parseAggregationHeader(p[0])
		if i == 0 && agg.z {
			return dst, tu, ErrNotFrameStart
		}
		if agg.z != d.fragPending {
			return dst, tu, fmt.Errorf("%w: packet %d has Z=%v", ErrFragment, i, agg.z)
		}
		var err error
		if dst, err = d.appendElements(dst, p[1:], agg, &tu); err != nil {
			return dst, tu, fmt.Errorf("packet %d: %w", i, err)
		}
	}
	if d.fragPending {
		return dst, tu, fmt.Errorf("%w: temporal unit ends inside an OBU", ErrFragment)
	}
	return dst, tu, nil
}

// appendElements handles the OBU elements of one packet's body.
func (d *Depacketizer) appendElements(dst, body []byte, agg aggregationHeader, tu *temporalUnit) ([]byte, error) {
	for idx := 0; len(body) > 0; idx++ {
		var el []byte
		if agg.w > 0 && idx == agg.w-1 {
			el, body = body, nil
		} else {
			size, n := readLEB128(body)
			if n == 0 || size > uint64(len(body)-n) {
				return dst, fmt.Errorf("%w: OBU element length", ErrBadPayload)
			}
			el, body = body[n:n+int(size)], body[n+int(size):]
			if agg.w > 0 && len(body) == 0 {
				return dst, fmt.Errorf("%w: fewer OBU elements than W=%d", ErrBadPayload, agg.w)
			}
		}
		if len(el) == 0 {
			return dst, fmt.Errorf("%w: empty OBU element", ErrBadPayload)
		}
		var err error
		if dst, err = d.element(dst, el, idx == 0 && agg.z, len(body) == 0 && agg.y, tu); err != nil {
			return dst, err
		}
	}
	return dst, nil
}

// element joins fragments and appends each complete OBU.
func (d *Depacketizer) element(dst, el []byte, continues, continued bool, tu *temporalUnit) ([]byte, error) {
	switch {
	case continues:
		d.frag = append(d.frag, el...)
		if continued {
			return dst, nil
		}
		d.fragPending = false
		return d.appendOBU(dst, d.frag, tu)
	case continued:
		d.frag, d.fragPending = append(d.frag[:0], el...), true
		return dst, nil
	}
	return d.appendOBU(dst, el, tu)
}

// appendOBU appends one complete OBU unless it is one kiroku drops, and
// notes sequence and frame headers.
func (d *Depacketizer) appendOBU(dst, raw []byte, tu *temporalUnit) ([]byte, error) {
	o, err := parseOBU(raw)
	if err != nil {
		return dst, err
	}
	switch o.typ {
	case obuTemporalDelimiter, obuTileList, obuPadding:
		return dst, nil
	}
	at := len(dst)
	dst = appendOBU(dst, o)
	switch o.typ {
	case obuSequenceHeader:
		if tu.seqEnd == 0 {
			if tu.seq, err = parseSequenceHeaderPayload(o.payload); err != nil {
				return dst, err
			}
			tu.seqStart, tu.seqEnd = at, len(dst)
		}
	case obuFrameHeader, obuFrame:
		if !tu.frameSeen {
			reduced := d.reducedStill
			if tu.seqEnd > 0 {
				reduced = tu.seq.ReducedStillPictureHeader
			}
			tu.first, err = parseFrameStart(o.payload, reduced)
			tu.frameSeen = true
		}
	}
	return dst, err
}

// frameInfo decides whether the temporal unit in out is a keyframe and
// builds its configuration.
func (d *Depacketizer) frameInfo(out []byte, tu *temporalUnit) (mux.FrameInfo, error) {
	if tu.seqEnd == 0 {
		return mux.FrameInfo{}, nil
	}
	d.reducedStill = tu.seq.ReducedStillPictureHeader
	if !tu.frameSeen || !tu.first.keyframe || !tu.first.shown {
		return mux.FrameInfo{}, nil
	}
	seqOBU := out[tu.seqStart:tu.seqEnd]
	if d.config == nil || !bytes.Equal(seqOBU, d.seqOBU) {
		rec, err := ConfigRecord(seqOBU)
		if err != nil {
			return mux.FrameInfo{}, err
		}
		d.config = &mux.VideoConfig{
			Width:    tu.seq.MaxFrameWidth,
			Height:   tu.seq.MaxFrameHeight,
			Record:   rec,
			BitDepth: tu.seq.Color.BitDepth,
		}
		d.seqOBU = append(d.seqOBU[:0], seqOBU...)
	}
	return mux.FrameInfo{Keyframe: true, Config: d.config}, nil
}
