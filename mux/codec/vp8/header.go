package vp8

import (
	"fmt"

	"github.com/kiroku-sfu/kiroku/mux"
)

// FrameHeader is what kiroku reads from the start of a VP8 frame: the frame
// tag (RFC 6386 §9.1) and, on key frames, the picture size (§9.2).
type FrameHeader struct {
	Keyframe bool
	Version  uint8 // 0-3; the "profile" of vpcC
	Shown    bool
	// Width and Height are set on key frames; the scaling bits are ignored.
	Width, Height int
}

// ParseFrameHeader reads the frame tag and, for a key frame, the start code
// and dimensions.
func ParseFrameHeader(frame []byte) (FrameHeader, error) {
	if len(frame) < 3 {
		return FrameHeader{}, fmt.Errorf("%w: %d bytes", ErrBadFrameHeader, len(frame))
	}
	h := FrameHeader{
		Keyframe: frame[0]&0x01 == 0,
		Version:  frame[0] >> 1 & 0x07,
		Shown:    frame[0]&0x10 != 0,
	}
	if h.Version > 3 {
		return FrameHeader{}, fmt.Errorf("%w: version %d", ErrBadFrameHeader, h.Version)
	}
	if !h.Keyframe {
		return h, nil
	}
	if len(frame) < 10 {
		return FrameHeader{}, fmt.Errorf("%w: %d bytes", ErrBadKeyframe, len(frame))
	}
	if frame[3] != 0x9d || frame[4] != 0x01 || frame[5] != 0x2a {
		return FrameHeader{}, fmt.Errorf("%w: bad start code % x", ErrBadKeyframe, frame[3:6])
	}
	h.Width = int(frame[6]) | int(frame[7]&0x3f)<<8
	h.Height = int(frame[8]) | int(frame[9]&0x3f)<<8
	if h.Width == 0 || h.Height == 0 {
		return FrameHeader{}, fmt.Errorf("%w: size %dx%d", ErrBadKeyframe, h.Width, h.Height)
	}
	return h, nil
}

// chroma420Colocated is vpcC's chromaSubsampling value 1 (4:2:0, chroma
// co-sited with luma sample (0,0)). VP8 is always 4:2:0 and signals no
// chroma siting; the VP codec ISO media file format binding names value 1
// as the default when the siting is not known, so that is what kiroku uses.
const chroma420Colocated = 1

// Config returns the container description of a key frame: VP8 is always
// 8-bit 4:2:0 and signals no level, and the version is vpcC's profile. Its
// colour space is BT.601 in limited range (RFC 6386 §9.2 color_space 0), so
// FullRange stays false.
func (h FrameHeader) Config() mux.VideoConfig {
	return mux.VideoConfig{
		Width:             h.Width,
		Height:            h.Height,
		Profile:           h.Version,
		BitDepth:          8,
		ChromaSubsampling: chroma420Colocated,
	}
}
