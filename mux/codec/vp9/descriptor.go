package vp9

import "errors"

// ErrShortPayload reports a payload descriptor that runs past its packet.
var ErrShortPayload = errors.New("vp9: payload descriptor truncated")

// ErrBadDescriptor reports a payload descriptor whose fields contradict
// each other.
var ErrBadDescriptor = errors.New("vp9: invalid payload descriptor")

// maxPDiffs is the most reference indices a flexible-mode descriptor holds.
const maxPDiffs = 3

// Descriptor is the VP9 payload descriptor of one RTP packet (RFC 9628
// §4.2). The scalability structure, when present, is checked and skipped;
// only its largest spatial layer size is kept.
type Descriptor struct {
	HasPictureID bool   // I
	PictureID    uint16 // 7- or 15-bit picture ID
	InterPicture bool   // P
	HasLayers    bool   // L
	Flexible     bool   // F
	Begin        bool   // B: first packet of a layer frame
	End          bool   // E: last packet of a layer frame
	HasSS        bool   // V: scalability structure present
	NotReference bool   // Z

	TID         uint8 // temporal layer
	SwitchingUp bool  // U
	SID         uint8 // spatial layer
	InterLayer  bool  // D
	TL0PicIdx   uint8 // non-flexible mode only

	PDiffs    [maxPDiffs]uint8 // flexible mode reference differences
	NumPDiffs int

	// SSWidth and SSHeight are the largest spatial layer's size from the
	// scalability structure (0 when it lists none).
	SSWidth, SSHeight int

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
	d.HasPictureID, d.InterPicture, d.HasLayers, d.Flexible = b&0x80 != 0, b&0x40 != 0, b&0x20 != 0, b&0x10 != 0
	d.Begin, d.End, d.HasSS, d.NotReference = b&0x08 != 0, b&0x04 != 0, b&0x02 != 0, b&0x01 != 0
	d.Size = 1
	if err := d.readPictureID(payload); err != nil {
		return d, err
	}
	if err := d.readLayers(payload); err != nil {
		return d, err
	}
	if err := d.readPDiffs(payload); err != nil {
		return d, err
	}
	err := d.readSS(payload)
	return d, err
}

func (d *Descriptor) next(payload []byte) (byte, error) {
	if d.Size >= len(payload) {
		return 0, ErrShortPayload
	}
	d.Size++
	return payload[d.Size-1], nil
}

func (d *Descriptor) readPictureID(payload []byte) error {
	if !d.HasPictureID {
		return nil
	}
	p, err := d.next(payload)
	if err != nil || p&0x80 == 0 {
		d.PictureID = uint16(p)
		return err
	}
	lo, err := d.next(payload)
	d.PictureID = uint16(p&0x7f)<<8 | uint16(lo)
	return err
}

func (d *Descriptor) readLayers(payload []byte) error {
	if !d.HasLayers {
		return nil
	}
	l, err := d.next(payload)
	if err != nil {
		return err
	}
	d.TID, d.SwitchingUp, d.SID, d.InterLayer = l>>5, l&0x10 != 0, l>>1&0x07, l&0x01 != 0
	if !d.Flexible {
		d.TL0PicIdx, err = d.next(payload)
	}
	return err
}

func (d *Descriptor) readPDiffs(payload []byte) error {
	if !d.Flexible || !d.InterPicture {
		return nil
	}
	for {
		p, err := d.next(payload)
		if err != nil {
			return err
		}
		if d.NumPDiffs == maxPDiffs {
			return ErrBadDescriptor
		}
		d.PDiffs[d.NumPDiffs] = p >> 1
		d.NumPDiffs++
		if p&0x01 == 0 {
			return nil
		}
	}
}

// readSS checks and skips the scalability structure (RFC 9628 §4.2.1),
// keeping the largest spatial layer resolution.
func (d *Descriptor) readSS(payload []byte) error {
	if !d.HasSS {
		return nil
	}
	v, err := d.next(payload)
	if err != nil {
		return err
	}
	layers, hasSizes, hasGroups := int(v>>5)+1, v&0x10 != 0, v&0x08 != 0
	if hasSizes {
		if err := d.readSSSizes(payload, layers); err != nil {
			return err
		}
	}
	if !hasGroups {
		return nil
	}
	groups, err := d.next(payload)
	if err != nil {
		return err
	}
	for range groups {
		g, err := d.next(payload)
		if err != nil {
			return err
		}
		d.Size += int(g >> 2 & 0x03) // R reference P_DIFFs
		if d.Size > len(payload) {
			return ErrShortPayload
		}
	}
	return nil
}

func (d *Descriptor) readSSSizes(payload []byte, layers int) error {
	if len(payload)-d.Size < 4*layers {
		return ErrShortPayload
	}
	for range layers {
		b := payload[d.Size : d.Size+4]
		w, h := int(b[0])<<8|int(b[1]), int(b[2])<<8|int(b[3])
		if w*h > d.SSWidth*d.SSHeight {
			d.SSWidth, d.SSHeight = w, h
		}
		d.Size += 4
	}
	return nil
}
