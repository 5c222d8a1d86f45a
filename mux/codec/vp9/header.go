package vp9

import (
	"errors"
	"fmt"

	"github.com/kiroku-sfu/kiroku/mux/codec/internal/bits"
)

// ErrBadHeader reports a frame whose uncompressed header is malformed.
var ErrBadHeader = errors.New("vp9: malformed uncompressed header")

// colorSpaceRGB is the VP9 color_space value CS_RGB.
const colorSpaceRGB = 7

// Header is the start of a VP9 frame's uncompressed header (VP9 bitstream
// specification §6.2) up to the frame size on key frames.
type Header struct {
	Profile           uint8
	ShowExistingFrame bool
	Keyframe          bool
	ShowFrame         bool

	// The fields below are set on key frames only.
	BitDepth     uint8
	ColorSpace   uint8
	FullRange    bool
	SubsamplingX bool
	SubsamplingY bool
	Width        int
	Height       int
}

// ParseHeader reads a VP9 frame's uncompressed header far enough to tell a
// key frame and, for one, its color configuration and size.
func ParseHeader(frame []byte) (Header, error) {
	r := bits.NewPlainReader(frame)
	var h Header
	if r.Bits(2) != 2 {
		return h, fmt.Errorf("%w: bad frame marker", ErrBadHeader)
	}
	lo, hi := r.Bits(1), r.Bits(1)
	h.Profile = uint8(hi<<1 | lo)
	if h.Profile == 3 && r.Flag() {
		return h, fmt.Errorf("%w: reserved bit set", ErrBadHeader)
	}
	h.ShowExistingFrame = r.Flag()
	if h.ShowExistingFrame {
		r.Bits(3) // frame_to_show_map_idx
		return h, overrun(&r)
	}
	h.Keyframe = !r.Flag() // frame_type 0 is KEY_FRAME
	h.ShowFrame = r.Flag()
	r.Bits(1) // error_resilient_mode
	if !h.Keyframe {
		return h, overrun(&r)
	}
	if r.Bits(24) != 0x498342 {
		return h, fmt.Errorf("%w: bad frame sync code", ErrBadHeader)
	}
	if err := h.readColorConfig(&r); err != nil {
		return h, err
	}
	h.Width, h.Height = int(r.Bits(16))+1, int(r.Bits(16))+1
	return h, overrun(&r)
}

func overrun(r *bits.Reader) error {
	if r.Err() != nil {
		return fmt.Errorf("%w: truncated", ErrBadHeader)
	}
	return nil
}

// readColorConfig reads color_config() (§6.2.2).
func (h *Header) readColorConfig(r *bits.Reader) error {
	h.BitDepth = 8
	if h.Profile >= 2 {
		h.BitDepth = 10
		if r.Flag() {
			h.BitDepth = 12
		}
	}
	h.ColorSpace = uint8(r.Bits(3))
	oddProfile := h.Profile == 1 || h.Profile == 3
	if h.ColorSpace == colorSpaceRGB {
		h.FullRange = true
		if !oddProfile {
			return fmt.Errorf("%w: RGB in profile %d", ErrBadHeader, h.Profile)
		}
		return reservedZero(r)
	}
	h.FullRange = r.Flag()
	if !oddProfile {
		h.SubsamplingX, h.SubsamplingY = true, true
		return nil
	}
	h.SubsamplingX, h.SubsamplingY = r.Flag(), r.Flag()
	if h.SubsamplingX && h.SubsamplingY {
		return fmt.Errorf("%w: 4:2:0 in profile %d", ErrBadHeader, h.Profile)
	}
	return reservedZero(r)
}

func reservedZero(r *bits.Reader) error {
	if r.Flag() {
		return fmt.Errorf("%w: reserved bit set", ErrBadHeader)
	}
	return nil
}

// vpcC chroma subsampling values (VP codec ISO media file format binding).
const (
	chroma420Colocated = 1
	chroma422          = 2
	chroma444          = 3
)

// ChromaSubsampling returns the vpcC chromaSubsampling value. VP9 does not
// signal 4:2:0 chroma siting, so 4:2:0 gets value 1 (co-sited with luma
// (0,0)), which the binding names as the default when the siting is not
// known. 4:4:0 has no vpcC value; it reports ok = false.
func (h Header) ChromaSubsampling() (v uint8, ok bool) {
	switch {
	case h.SubsamplingX && h.SubsamplingY:
		return chroma420Colocated, true
	case h.SubsamplingX:
		return chroma422, true
	case !h.SubsamplingY:
		return chroma444, true
	}
	return 0, false
}

// level is one row of the VP9 levels table (webmproject.org "VP9 Levels and
// Decoder Testing"): the largest picture size in luma samples, the largest
// luma sample rate and the largest picture dimension.
type level struct {
	vpcc       uint8
	maxPicture int
	maxRate    int64
	maxDim     int
}

// assumedFrameRate is the frame rate kiroku assumes when it picks a level:
// RTP carries no frame rate, and 30 fps is what WebRTC senders aim for.
const assumedFrameRate = 30

// Level returns the vpcC level (10 for level 1 ... 62 for level 6.2) of the
// smallest VP9 level that admits a width x height picture at 30 fps, or 0
// when the picture is larger than level 6.2 allows.
func Level(width, height int) uint8 {
	picture := width * height
	levels := [...]level{
		{10, 36864, 829440, 512},
		{11, 73728, 2764800, 768},
		{20, 122880, 4608000, 960},
		{21, 245760, 9216000, 1344},
		{30, 552960, 20736000, 2048},
		{31, 983040, 36864000, 2752},
		{40, 2228224, 83558400, 4160},
		{41, 2228224, 160432128, 4160},
		{50, 8912896, 311951360, 8384},
		{51, 8912896, 588251136, 8384},
		{52, 8912896, 1176502272, 8384},
		{60, 35651584, 1176502272, 16832},
		{61, 35651584, 2353004544, 16832},
		{62, 35651584, 4706009088, 16832},
	}
	for _, l := range levels {
		if picture <= l.maxPicture && int64(picture)*assumedFrameRate <= l.maxRate &&
			width <= l.maxDim && height <= l.maxDim {
			return l.vpcc
		}
	}
	return 0
}
