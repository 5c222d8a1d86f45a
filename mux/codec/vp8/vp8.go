// Package vp8 turns the RTP payloads of one VP8 frame (RFC 7741) into the
// VP8 frame a container stores, and reads the stream parameters a container
// needs from key frame headers (RFC 6386 §9.1).
package vp8

import (
	"errors"
	"fmt"

	"github.com/kiroku-sfu/kiroku/mux"
)

// Errors returned for malformed payloads.
var (
	ErrShortPayload   = errors.New("vp8: payload descriptor truncated")
	ErrEmptyPayload   = errors.New("vp8: packet carries no frame data")
	ErrNotFrameStart  = errors.New("vp8: first packet does not start partition 0")
	ErrBadKeyframe    = errors.New("vp8: malformed key frame header")
	ErrNoPayloads     = errors.New("vp8: no payloads")
	ErrBadFrameHeader = errors.New("vp8: malformed frame tag")
)

// Descriptor is the VP8 payload descriptor of one RTP packet (RFC 7741 §4.2).
type Descriptor struct {
	NonReference bool   // N
	Start        bool   // S: first packet of a partition
	PartitionID  uint8  // PID
	PictureID    uint16 // 7- or 15-bit picture ID; valid when HasPictureID
	HasPictureID bool
	TL0PicIdx    uint8 // valid when HasTL0PicIdx
	HasTL0PicIdx bool
	TID          uint8 // temporal layer index; valid when HasTID
	LayerSync    bool  // Y
	HasTID       bool
	KeyIdx       uint8 // valid when HasKeyIdx
	HasKeyIdx    bool
	// Size is the descriptor's length in bytes; the frame data follows it.
	Size int
}

// ParseDescriptor reads the payload descriptor at the start of payload.
func ParseDescriptor(payload []byte) (Descriptor, error) {
	var d Descriptor
	if len(payload) < 1 {
		return d, ErrShortPayload
	}
	b := payload[0]
	d.NonReference = b&0x20 != 0
	d.Start = b&0x10 != 0
	d.PartitionID = b & 0x07
	d.Size = 1
	if b&0x80 == 0 {
		return d, nil
	}
	if len(payload) < 2 {
		return d, ErrShortPayload
	}
	err := d.readExtensions(payload)
	return d, err
}

// readExtensions reads the optional fields that the X octet announces.
func (d *Descriptor) readExtensions(payload []byte) error {
	x := payload[1]
	d.Size = 2
	if x&0x80 != 0 { // I
		if err := d.readPictureID(payload); err != nil {
			return err
		}
	}
	if x&0x40 != 0 { // L
		if len(payload) <= d.Size {
			return ErrShortPayload
		}
		d.TL0PicIdx, d.HasTL0PicIdx = payload[d.Size], true
		d.Size++
	}
	if x&0x30 == 0 { // neither T nor K
		return nil
	}
	if len(payload) <= d.Size {
		return ErrShortPayload
	}
	tk := payload[d.Size]
	d.Size++
	if x&0x20 != 0 {
		d.TID, d.LayerSync, d.HasTID = tk>>6, tk&0x20 != 0, true
	}
	if x&0x10 != 0 {
		d.KeyIdx, d.HasKeyIdx = tk&0x1f, true
	}
	return nil
}

func (d *Descriptor) readPictureID(payload []byte) error {
	if len(payload) <= d.Size {
		return ErrShortPayload
	}
	p := payload[d.Size]
	d.HasPictureID = true
	if p&0x80 == 0 {
		d.PictureID = uint16(p)
		d.Size++
		return nil
	}
	if len(payload) <= d.Size+1 {
		return ErrShortPayload
	}
	d.PictureID = uint16(p&0x7f)<<8 | uint16(payload[d.Size+1])
	d.Size += 2
	return nil
}

// Depacketizer implements mux.FrameDepacketizer for VP8. It remembers the
// last stream configuration so that an unchanged configuration costs no
// allocation; a returned Config must not be modified.
type Depacketizer struct {
	config *mux.VideoConfig
}

// NewDepacketizer returns a VP8 depacketizer for one RTP stream.
func NewDepacketizer() *Depacketizer { return &Depacketizer{} }

var _ mux.FrameDepacketizer = (*Depacketizer)(nil)

// IsFrameStart reports whether payload starts partition 0 (S=1, PID=0),
// which the first packet of every frame does.
func (d *Depacketizer) IsFrameStart(payload []byte) bool {
	desc, err := ParseDescriptor(payload)
	return err == nil && desc.Start && desc.PartitionID == 0
}

// AppendFrame appends the VP8 frame carried by payloads to dst: the
// concatenated data after each packet's descriptor. Key frames carry a
// Config read from the key frame header.
func (d *Depacketizer) AppendFrame(dst []byte, payloads [][]byte) ([]byte, mux.FrameInfo, error) {
	if len(payloads) == 0 {
		return dst, mux.FrameInfo{}, ErrNoPayloads
	}
	start := len(dst)
	for i, p := range payloads {
		desc, err := ParseDescriptor(p)
		if err != nil {
			return dst[:start], mux.FrameInfo{}, fmt.Errorf("vp8: packet %d: %w", i, err)
		}
		if i == 0 && (!desc.Start || desc.PartitionID != 0) {
			return dst[:start], mux.FrameInfo{}, ErrNotFrameStart
		}
		if desc.Size == len(p) {
			return dst[:start], mux.FrameInfo{}, fmt.Errorf("vp8: packet %d: %w", i, ErrEmptyPayload)
		}
		dst = append(dst, p[desc.Size:]...)
	}
	info, err := d.frameInfo(dst[start:])
	if err != nil {
		return dst[:start], mux.FrameInfo{}, err
	}
	return dst, info, nil
}

func (d *Depacketizer) frameInfo(frame []byte) (mux.FrameInfo, error) {
	hdr, err := ParseFrameHeader(frame)
	if err != nil {
		return mux.FrameInfo{}, err
	}
	if !hdr.Keyframe {
		return mux.FrameInfo{}, nil
	}
	cfg := hdr.Config()
	if !d.config.Equal(&cfg) {
		stored := cfg
		d.config = &stored
	}
	return mux.FrameInfo{Keyframe: true, Config: d.config}, nil
}
