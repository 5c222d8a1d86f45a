package loadgen

import (
	"bytes"
	"encoding/binary"
	"errors"
	"time"
)

// StampBytes is the size of a [Stamp] in a payload.
const StampBytes = 1 + len(stampMagic) + 1 + 4 + 8 + 8

// KeyframeStampBytes is the size of a keyframe's stamp ([PutKeyframeStamp]):
// a VP8 keyframe header before the stamp.
const KeyframeStampBytes = 1 + vp8KeyframeHeaderBytes + StampBytes

// stampMagic tells a stamped payload from any other. Its first byte is
// also the first byte of the VP8 payload header after the descriptor:
// 'K' (0x4b) has the inverse key frame bit set, so a plain stamp is an
// interframe to anything that reads VP8.
const stampMagic = "KLG1"

// vp8Descriptor is a minimal VP8 payload descriptor: start of partition 0,
// no extensions. It keeps the payload a plausible VP8 packet.
const vp8Descriptor = 0x10

// vp8KeyframeHeaderBytes is a VP8 keyframe's uncompressed header (RFC
// 6386 §9.1): the 3-byte frame tag, the start code and the size.
const vp8KeyframeHeaderBytes = 10

// keyframePartitionBytes is the first partition size the keyframe header
// claims (the stamp and the filler after it).
const keyframePartitionBytes = 64

// Stamp is what a publisher writes at the start of each RTP payload.
type Stamp struct {
	// Publisher is the index of the sending publisher in its [Load].
	Publisher uint32
	// Layer is the simulcast layer (0 for r0, up to 2 for r2; 0 without
	// simulcast).
	Layer uint8
	// Seq counts the publisher's packets of that layer from 0.
	Seq uint64
	// Sent is the send time.
	Sent time.Time
	// Keyframe says the payload starts a VP8 keyframe ([PutKeyframeStamp]).
	Keyframe bool
}

// ErrNoStamp is returned by [ParseStamp] for a payload without a stamp.
var ErrNoStamp = errors.New("payload carries no stamp")

// PutStamp writes s to the start of payload, which must hold at least
// [StampBytes] bytes; s.Keyframe is ignored (see [PutKeyframeStamp]).
func PutStamp(payload []byte, s Stamp) {
	_ = payload[StampBytes-1] // one bounds check
	payload[0] = vp8Descriptor
	copy(payload[1:], stampMagic)
	o := 1 + len(stampMagic)
	payload[o] = s.Layer
	binary.BigEndian.PutUint32(payload[o+1:], s.Publisher)
	binary.BigEndian.PutUint64(payload[o+5:], s.Seq)
	binary.BigEndian.PutUint64(payload[o+13:], uint64(s.Sent.UnixNano()))
}

// PutKeyframeStamp writes the start of a VP8 keyframe, then s: a payload
// descriptor starting partition 0 and a keyframe's uncompressed header
// (shown, version 0, the start code, the layer's size: 1280×720 for r2,
// halved per layer below), which is what a receiver (or an SFU choosing a
// simulcast layer) reads to find a keyframe. payload must hold at least
// [KeyframeStampBytes] bytes.
func PutKeyframeStamp(payload []byte, s Stamp) {
	_ = payload[KeyframeStampBytes-1]
	payload[0] = vp8Descriptor
	h := vp8KeyframeHeader(s.Layer)
	copy(payload[1:], h[:])
	PutStamp(payload[1+vp8KeyframeHeaderBytes:], s)
}

// vp8KeyframeHeader is the uncompressed header of a keyframe of layer.
func vp8KeyframeHeader(layer uint8) [vp8KeyframeHeaderBytes]byte {
	shift := uint(2 - min(layer, 2))
	w, h := uint16(1280>>shift), uint16(720>>shift)
	// Frame tag, little-endian: key frame (bit 0 clear), version 0,
	// show_frame (bit 4), first partition size (bits 5-23).
	tag := uint32(keyframePartitionBytes)<<5 | 1<<4
	return [vp8KeyframeHeaderBytes]byte{byte(tag), byte(tag >> 8), byte(tag >> 16), 0x9d, 0x01, 0x2a,
		byte(w), byte(w >> 8), byte(h), byte(h >> 8)}
}

// ParseStamp reads the stamp at the start of payload, or after a
// keyframe's header.
func ParseStamp(payload []byte) (Stamp, error) {
	if s, ok := parsePlainStamp(payload); ok {
		return s, nil
	}
	if len(payload) < KeyframeStampBytes || payload[0] != vp8Descriptor {
		return Stamp{}, ErrNoStamp
	}
	s, ok := parsePlainStamp(payload[1+vp8KeyframeHeaderBytes:])
	if h := vp8KeyframeHeader(s.Layer); !ok || !bytes.Equal(payload[1:1+vp8KeyframeHeaderBytes], h[:]) {
		return Stamp{}, ErrNoStamp
	}
	s.Keyframe = true
	return s, nil
}

func parsePlainStamp(payload []byte) (Stamp, bool) {
	if len(payload) < StampBytes || payload[0] != vp8Descriptor || string(payload[1:1+len(stampMagic)]) != stampMagic {
		return Stamp{}, false
	}
	o := 1 + len(stampMagic)
	return Stamp{
		Layer:     payload[o],
		Publisher: binary.BigEndian.Uint32(payload[o+1:]),
		Seq:       binary.BigEndian.Uint64(payload[o+5:]),
		Sent:      time.Unix(0, int64(binary.BigEndian.Uint64(payload[o+13:]))),
	}, true
}
