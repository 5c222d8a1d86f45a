// Package opus checks Opus packets carried over RTP (RFC 7587), reads their
// duration from the table-of-contents byte (RFC 6716 §3.1) and builds the
// OpusHead header (RFC 7845 §5.1) that WebM stores as CodecPrivate.
package opus

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/kiroku-sfu/kiroku/mux"
)

// Errors returned for malformed packets.
var (
	ErrEmptyPacket  = errors.New("opus: empty packet")
	ErrPayloadCount = errors.New("opus: a frame must be exactly one RTP payload")
	ErrMalformed    = errors.New("opus: malformed packet")
)

// DefaultPreSkip is the pre-skip kiroku writes for Opus captured from RTP:
// none. A recording starts at an arbitrary packet of a stream whose encoder
// started long before, so the encoder's start-up delay (312 samples for
// libopus) is not at the start of the file; trimming it would shift the audio
// 6.5 ms early against video aligned by RTCP sender reports. Chromium's
// MediaRecorder, which also muxes already-encoded real-time Opus into WebM,
// writes 0 as well.
const DefaultPreSkip uint16 = 0

// maxFrameBytes is the largest Opus frame (RFC 6716 §3.2.1).
const maxFrameBytes = 1275

// maxPacketDuration is the longest Opus packet (RFC 6716 §3.2.5).
const maxPacketDuration = 120 * time.Millisecond

// Depacketizer implements mux.FrameDepacketizer for Opus: every RTP payload
// is one Opus packet, which kiroku stores unchanged.
type Depacketizer struct{}

// NewDepacketizer returns an Opus depacketizer.
func NewDepacketizer() *Depacketizer { return &Depacketizer{} }

var _ mux.FrameDepacketizer = (*Depacketizer)(nil)

// IsFrameStart reports true for any non-empty payload: an Opus packet is
// never split across RTP packets.
func (*Depacketizer) IsFrameStart(payload []byte) bool { return len(payload) > 0 }

// AppendFrame validates the single Opus packet in payloads and appends it to
// dst. Every Opus packet is a keyframe; Config is nil for audio.
func (*Depacketizer) AppendFrame(dst []byte, payloads [][]byte) ([]byte, mux.FrameInfo, error) {
	if len(payloads) != 1 {
		return dst, mux.FrameInfo{}, fmt.Errorf("%w: got %d", ErrPayloadCount, len(payloads))
	}
	if _, err := PacketDuration(payloads[0]); err != nil {
		return dst, mux.FrameInfo{}, err
	}
	return append(dst, payloads[0]...), mux.FrameInfo{Keyframe: true}, nil
}

// frameDuration returns the duration of one frame of TOC configuration
// config (RFC 6716 §3.1, Table 2).
func frameDuration(config byte) time.Duration {
	switch {
	case config < 12: // SILK-only: 10, 20, 40, 60 ms
		return [4]time.Duration{10, 20, 40, 60}[config%4] * time.Millisecond
	case config < 16: // Hybrid: 10, 20 ms
		return [2]time.Duration{10, 20}[config%2] * time.Millisecond
	default: // CELT-only: 2.5, 5, 10, 20 ms
		return [4]time.Duration{2500, 5000, 10000, 20000}[config%4] * time.Microsecond
	}
}

// PacketDuration validates an Opus packet's framing (RFC 6716 §3.4, rules
// R1-R7) and returns the audio duration it carries.
func PacketDuration(pkt []byte) (time.Duration, error) {
	if len(pkt) == 0 {
		return 0, ErrEmptyPacket
	}
	frames, err := frameCount(pkt)
	if err != nil {
		return 0, err
	}
	d := time.Duration(frames) * frameDuration(pkt[0]>>3)
	if d > maxPacketDuration {
		return 0, fmt.Errorf("%w: %d frames last %v, over 120 ms", ErrMalformed, frames, d)
	}
	return d, nil
}

// frameCount checks the frame lengths the TOC's code implies and returns the
// number of frames.
func frameCount(pkt []byte) (int, error) {
	body := pkt[1:]
	switch pkt[0] & 0x03 {
	case 0:
		if len(body) > maxFrameBytes {
			return 0, fmt.Errorf("%w: code 0 frame of %d bytes", ErrMalformed, len(body))
		}
		return 1, nil
	case 1:
		if len(body)%2 != 0 || len(body)/2 > maxFrameBytes {
			return 0, fmt.Errorf("%w: code 1 with %d bytes", ErrMalformed, len(body))
		}
		return 2, nil
	case 2:
		n, size, err := frameLength(body)
		if err != nil || size > len(body)-n || len(body)-n-size > maxFrameBytes {
			return 0, fmt.Errorf("%w: code 2 frame lengths", ErrMalformed)
		}
		return 2, nil
	}
	return code3FrameCount(body)
}

// code3FrameCount checks a code 3 packet (RFC 6716 §3.2.5): frame count,
// padding and CBR or VBR frame lengths.
func code3FrameCount(body []byte) (int, error) {
	if len(body) < 1 {
		return 0, fmt.Errorf("%w: code 3 without frame count", ErrMalformed)
	}
	vbr, padded, m := body[0]&0x80 != 0, body[0]&0x40 != 0, int(body[0]&0x3f)
	if m == 0 {
		return 0, fmt.Errorf("%w: code 3 with zero frames", ErrMalformed)
	}
	rest := body[1:]
	padding := 0
	if padded {
		n, p, err := paddingLength(rest)
		if err != nil {
			return 0, err
		}
		rest, padding = rest[n:], p
	}
	if padding > len(rest) {
		return 0, fmt.Errorf("%w: padding of %d bytes exceeds the packet", ErrMalformed, padding)
	}
	data := len(rest) - padding
	if !vbr {
		if data%m != 0 || data/m > maxFrameBytes {
			return 0, fmt.Errorf("%w: %d CBR bytes for %d frames", ErrMalformed, data, m)
		}
		return m, nil
	}
	return m, checkVBR(rest[:data], m)
}

// checkVBR checks that the m-1 coded frame lengths and the implied last one
// fit in data.
func checkVBR(data []byte, m int) error {
	used := 0
	for range m - 1 {
		n, size, err := frameLength(data)
		if err != nil {
			return err
		}
		data = data[n:]
		used += size
		if used > len(data) {
			return fmt.Errorf("%w: VBR frame lengths exceed the packet", ErrMalformed)
		}
	}
	if len(data)-used > maxFrameBytes {
		return fmt.Errorf("%w: last VBR frame too long", ErrMalformed)
	}
	return nil
}

// frameLength decodes a one- or two-byte frame length (RFC 6716 §3.2.1) and
// returns the bytes it used and the length.
func frameLength(b []byte) (int, int, error) {
	if len(b) < 1 {
		return 0, 0, fmt.Errorf("%w: missing frame length", ErrMalformed)
	}
	if b[0] < 252 {
		return 1, int(b[0]), nil
	}
	if len(b) < 2 {
		return 0, 0, fmt.Errorf("%w: truncated frame length", ErrMalformed)
	}
	return 2, int(b[1])*4 + int(b[0]), nil
}

// paddingLength decodes code 3 padding length bytes and returns the bytes
// they used and the padding they announce.
func paddingLength(b []byte) (int, int, error) {
	total := 0
	for i, v := range b {
		if v != 255 {
			return i + 1, total + int(v), nil
		}
		total += 254
	}
	return 0, 0, fmt.Errorf("%w: truncated padding length", ErrMalformed)
}

// Head builds the 19-byte OpusHead identification header (RFC 7845 §5.1)
// for channel mapping family 0 with zero output gain. Family 0 means mono or
// stereo, so channels must be 1 or 2. It is what WebM stores as the Opus
// track's CodecPrivate; preSkip is normally DefaultPreSkip and
// inputSampleRate 48000 (RTP does not say what the sender captured at).
func Head(channels int, preSkip uint16, inputSampleRate uint32) []byte {
	h := make([]byte, 19)
	copy(h, "OpusHead")
	h[8] = 1 // version
	h[9] = byte(channels)
	binary.LittleEndian.PutUint16(h[10:], preSkip)
	binary.LittleEndian.PutUint32(h[12:], inputSampleRate)
	// Bytes 16-17 (output gain) and 18 (mapping family 0) stay zero.
	return h
}
