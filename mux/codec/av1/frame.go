package av1

import (
	"fmt"

	"github.com/kiroku-sfu/kiroku/mux/codec/internal/bits"
)

// frameTypeKey is frame_type KEY_FRAME (§6.8.2).
const frameTypeKey = 0

// frameStart is the start of an uncompressed frame header (§5.9.2).
type frameStart struct {
	showExisting bool
	keyframe     bool // frame_type == KEY_FRAME (false for show_existing_frame)
	shown        bool // show_frame
}

// parseFrameStart reads the first fields of a frame header OBU's or frame
// OBU's payload. reducedStill is the sequence header's
// reduced_still_picture_header: such frames are shown key frames and carry
// none of these fields.
func parseFrameStart(payload []byte, reducedStill bool) (frameStart, error) {
	if reducedStill {
		return frameStart{keyframe: true, shown: true}, nil
	}
	r := bits.NewPlainReader(payload)
	var f frameStart
	f.showExisting = r.Flag()
	if !f.showExisting {
		f.keyframe = r.Bits(2) == frameTypeKey
		f.shown = r.Flag()
	}
	if r.Err() != nil {
		return frameStart{}, fmt.Errorf("%w: truncated frame header", ErrBadOBU)
	}
	return f, nil
}
