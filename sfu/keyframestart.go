package sfu

import (
	"encoding/binary"
	"strings"
)

// keyframeStart reports whether an RTP payload of the video codec
// mimeType begins a frame a decoder can start from: the place where a
// viewer may be moved from one simulcast layer to another. It reads only
// the payload descriptor and NAL unit headers, never past payload's end.
func keyframeStart(mimeType string, payload []byte) bool {
	// EqualFold, not ToLower: this runs per packet and must not allocate.
	is := func(m string) bool { return strings.EqualFold(mimeType, m) }
	switch {
	case is("video/vp8"):
		return vp8KeyframeStart(payload)
	case is("video/vp9"):
		return vp9KeyframeStart(payload)
	case is("video/av1"):
		// Aggregation header: N (bit 3) starts a new coded video sequence.
		return len(payload) > 0 && payload[0]&0x08 != 0
	case is("video/h264"):
		return h264KeyframeStart(payload)
	case is("video/h265"):
		return h265KeyframeStart(payload)
	}
	return false
}

// vp8KeyframeStart: RFC 7741 payload descriptor with S set and partition
// 0, then a VP8 payload header whose P (inverse key frame) bit is 0.
func vp8KeyframeStart(p []byte) bool {
	if len(p) == 0 || p[0]&0x10 == 0 || p[0]&0x07 != 0 {
		return false
	}
	i := 1
	if p[0]&0x80 != 0 { // X: extension byte
		if len(p) <= i {
			return false
		}
		x := p[i]
		i++
		if x&0x80 != 0 { // I: picture ID, 7 or 15 bits
			if len(p) <= i {
				return false
			}
			if p[i]&0x80 != 0 {
				i++
			}
			i++
		}
		if x&0x40 != 0 { // L: TL0PICIDX
			i++
		}
		if x&0x30 != 0 { // T or K: TID/Y/KEYIDX
			i++
		}
	}
	return len(p) > i && p[i]&0x01 == 0
}

// vp9KeyframeStart: draft-ietf-payload-vp9 descriptor with B (start of
// frame) set and P (inter-picture predicted) clear, in spatial layer 0.
func vp9KeyframeStart(p []byte) bool {
	if len(p) == 0 || p[0]&0x08 == 0 || p[0]&0x40 != 0 {
		return false
	}
	if p[0]&0x20 == 0 { // no layer indices: one spatial layer
		return true
	}
	i := 1
	if p[0]&0x80 != 0 { // I: picture ID
		if len(p) <= i {
			return false
		}
		if p[i]&0x80 != 0 {
			i++
		}
		i++
	}
	return len(p) > i && (p[i]>>1)&0x07 == 0 // SID
}

// h264KeyframeStart: an SPS or IDR slice alone, in a STAP-A, or starting
// an FU-A (RFC 6184).
func h264KeyframeStart(p []byte) bool {
	if len(p) == 0 {
		return false
	}
	isKey := func(t byte) bool { return t == 5 || t == 7 }
	switch t := p[0] & 0x1f; t {
	case 24: // STAP-A: 2-byte sizes, each NAL unit's header after it
		for i := 1; i+2 < len(p); {
			size := int(binary.BigEndian.Uint16(p[i:]))
			if size == 0 {
				return false
			}
			if isKey(p[i+2] & 0x1f) {
				return true
			}
			i += 2 + size
		}
		return false
	case 28: // FU-A: the start fragment of an IDR slice
		return len(p) > 1 && p[1]&0x80 != 0 && p[1]&0x1f == 5
	default:
		return isKey(t)
	}
}

// h265KeyframeStart: a VPS, SPS or IRAP picture alone, in an aggregation
// packet, or starting a fragmentation unit (RFC 7798).
func h265KeyframeStart(p []byte) bool {
	if len(p) < 2 {
		return false
	}
	isKey := func(t byte) bool { return t == 32 || t == 33 || (t >= 16 && t <= 21) }
	switch t := (p[0] >> 1) & 0x3f; t {
	case 48: // AP: 2-byte sizes, each NAL unit's 2-byte header after it
		for i := 2; i+2 < len(p); {
			size := int(binary.BigEndian.Uint16(p[i:]))
			if size == 0 {
				return false
			}
			if isKey((p[i+2] >> 1) & 0x3f) {
				return true
			}
			i += 2 + size
		}
		return false
	case 49: // FU: start bit and type in the FU header
		return len(p) > 2 && p[2]&0x80 != 0 && isKey(p[2]&0x3f)
	default:
		return isKey(t)
	}
}
