package sfu

import (
	"errors"
	"strings"
)

// Codec-level picture numbering across simulcast layer moves.
//
// Besides RTP sequence numbers and timestamps, VP8 and VP9 carry picture
// numbers in their payload descriptors, which a receiver uses to find
// missing frames and references: the picture ID (7 or 15 bits), the
// TL0PICIDX (8 bits: the picture ID of the base temporal layer) and, in
// VP8, the KEYIDX (5 bits, counting keyframes). Each simulcast layer has
// its own numbering, so a receiver moved to another layer would see them
// jump and wait for a keyframe it already has. A receiver's layerSelector
// therefore rewrites them, as it does sequence numbers: at a move, the new
// layer's numbers go on from the last ones sent, each one step later.
//
// H.264 and H.265 payloads carry no picture numbers. AV1's payload (its
// aggregation header) has none either; its numbering lives in the
// dependency descriptor, an RTP header extension, which the SFU does not
// forward (header extension ids are negotiated per PeerConnection) and so
// never needs rewriting. Chromium sends AV1 and VP9 simulcast with one
// spatial layer per stream; VP9's flexible mode carries only relative
// references (P_DIFF), which need no rewriting, and its non-flexible mode
// a TL0PICIDX, which is rewritten like VP8's.

// errDescriptor is a payload descriptor that ends before its fields do.
var errDescriptor = errors.New("truncated payload descriptor")

// picCodec is the payload descriptor format a picRewriter reads.
type picCodec uint8

const (
	picNone picCodec = iota // no picture numbers (H.264, H.265, AV1)
	picVP8
	picVP9
)

func picCodecOf(mimeType string) picCodec {
	switch {
	case strings.EqualFold(mimeType, "video/vp8"):
		return picVP8
	case strings.EqualFold(mimeType, "video/vp9"):
		return picVP9
	}
	return picNone
}

// descriptor is where a payload descriptor's picture numbers are: byte
// offsets into the payload, -1 when absent; picLen is 1 (7-bit picture ID)
// or 2 (15-bit), 0 without one.
type descriptor struct {
	picAt, picLen int
	tl0At, keyAt  int
}

// picture returns the descriptor's picture ID in p.
func (d descriptor) picture(p []byte) uint16 {
	if d.picLen == 1 {
		return uint16(p[d.picAt] & 0x7f)
	}
	return uint16(p[d.picAt]&0x7f)<<8 | uint16(p[d.picAt+1])
}

// parseDescriptor reads the picture number fields of a VP8 (RFC 7741) or
// VP9 (RFC 9628) payload descriptor; it never reads past p's end.
func parseDescriptor(c picCodec, p []byte) (descriptor, error) {
	d := descriptor{picAt: -1, tl0At: -1, keyAt: -1}
	switch c {
	case picVP8:
		return d, d.vp8(p)
	case picVP9:
		return d, d.vp9(p)
	}
	return d, nil
}

func (d *descriptor) vp8(p []byte) error {
	if len(p) < 1 {
		return errDescriptor
	}
	if p[0]&0x80 == 0 { // X: no extension
		return nil
	}
	if len(p) < 2 {
		return errDescriptor
	}
	x, i := p[1], 2
	if x&0x80 != 0 { // I
		if i, _ = d.readPicture(p, i); i < 0 {
			return errDescriptor
		}
	}
	if x&0x40 != 0 { // L
		d.tl0At = i
		i++
	}
	if x&0x20 != 0 || x&0x10 != 0 { // T or K: TID|Y|KEYIDX
		if x&0x10 != 0 {
			d.keyAt = i
		}
		i++
	}
	if i > len(p) {
		return errDescriptor
	}
	return nil
}

func (d *descriptor) vp9(p []byte) error {
	if len(p) < 1 {
		return errDescriptor
	}
	b, i := p[0], 1
	if b&0x80 != 0 { // I
		if i, _ = d.readPicture(p, i); i < 0 {
			return errDescriptor
		}
	}
	if b&0x20 != 0 { // L: TID|U|SID|D, then TL0PICIDX unless flexible
		i++
		if b&0x10 == 0 {
			d.tl0At = i
			i++
		}
	}
	if i > len(p) {
		return errDescriptor
	}
	return nil
}

// readPicture reads a picture ID at i; it returns the index after it, or
// -1 when p ends first.
func (d *descriptor) readPicture(p []byte, i int) (int, bool) {
	if i >= len(p) {
		return -1, false
	}
	d.picAt, d.picLen = i, 1
	if p[i]&0x80 != 0 { // M: 15 bits
		d.picLen = 2
	}
	if i+d.picLen > len(p) {
		return -1, false
	}
	return i + d.picLen, true
}
