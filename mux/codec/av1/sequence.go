package av1

import (
	"errors"
	"fmt"

	"github.com/kiroku-sfu/kiroku/mux/codec/internal/bits"
)

// ErrBadSequenceHeader reports a malformed sequence header OBU.
var ErrBadSequenceHeader = errors.New("av1: malformed sequence header")

// SequenceHeader holds the fields of a sequence header OBU (AV1
// specification §5.5) that a container and kiroku's frame checks need.
type SequenceHeader struct {
	Profile                   uint8 // seq_profile
	StillPicture              bool
	ReducedStillPictureHeader bool
	TimingInfoPresent         bool
	DecoderModelInfoPresent   bool
	OperatingPoints           int    // operating_points_cnt_minus_1 + 1
	OperatingPointIdc         uint16 // of operating point 0
	LevelIdx                  uint8  // seq_level_idx[0]
	Tier                      uint8  // seq_tier[0]
	MaxFrameWidth             int
	MaxFrameHeight            int
	FrameIDNumbersPresent     bool
	OrderHintBits             int
	Color                     ColorConfig
	FilmGrainParamsPresent    bool
}

// ColorConfig is color_config() (§5.5.2).
type ColorConfig struct {
	BitDepth                uint8
	HighBitdepth            bool
	TwelveBit               bool
	MonoChrome              bool
	ColorPrimaries          uint8
	TransferCharacteristics uint8
	MatrixCoefficients      uint8
	FullRange               bool // color_range
	SubsamplingX            bool
	SubsamplingY            bool
	ChromaSamplePosition    uint8
	SeparateUVDeltaQ        bool
}

// Values of color_config() fields with special meaning (§6.4.2).
const (
	cpBT709       = 1
	tcSRGB        = 13
	mcIdentity    = 0
	unspecified   = 2
	maxSeqProfile = 2
)

// ParseSequenceHeader parses a complete sequence header OBU: its OBU header,
// an optional obu_size and the sequence_header_obu() payload.
func ParseSequenceHeader(seqHeaderOBU []byte) (SequenceHeader, error) {
	o, err := parseOBU(seqHeaderOBU)
	if err != nil {
		return SequenceHeader{}, err
	}
	if o.typ != obuSequenceHeader {
		return SequenceHeader{}, fmt.Errorf("%w: OBU type %d", ErrBadSequenceHeader, o.typ)
	}
	return parseSequenceHeaderPayload(o.payload)
}

// parseSequenceHeaderPayload parses sequence_header_obu() up to and
// including film_grain_params_present.
func parseSequenceHeaderPayload(p []byte) (SequenceHeader, error) {
	r := bits.NewPlainReader(p)
	var s SequenceHeader
	s.Profile = uint8(r.Bits(3))
	if s.Profile > maxSeqProfile {
		return s, fmt.Errorf("%w: seq_profile %d", ErrBadSequenceHeader, s.Profile)
	}
	s.StillPicture = r.Flag()
	s.ReducedStillPictureHeader = r.Flag()
	if s.ReducedStillPictureHeader {
		s.OperatingPoints = 1
		s.LevelIdx = uint8(r.Bits(5))
	} else {
		s.readOperatingPoints(&r)
	}
	s.readFrameSizes(&r)
	s.readTools(&r)
	s.Color.read(&r, s.Profile)
	s.FilmGrainParamsPresent = r.Flag()
	if r.Err() != nil {
		return s, fmt.Errorf("%w: truncated", ErrBadSequenceHeader)
	}
	if s.ReducedStillPictureHeader && !s.StillPicture {
		return s, fmt.Errorf("%w: reduced still picture header without still_picture", ErrBadSequenceHeader)
	}
	return s, nil
}

// readOperatingPoints reads timing and decoder model info, skipping what
// kiroku does not need, and the operating points (§5.5.1, §5.5.3-5.5.5).
func (s *SequenceHeader) readOperatingPoints(r *bits.Reader) {
	bufferDelayLength := 0
	s.TimingInfoPresent = r.Flag()
	if s.TimingInfoPresent {
		r.Bits(32) // num_units_in_display_tick
		r.Bits(32) // time_scale
		if r.Flag() {
			uvlc(r) // num_ticks_per_picture_minus_1
		}
		s.DecoderModelInfoPresent = r.Flag()
		if s.DecoderModelInfoPresent {
			bufferDelayLength = int(r.Bits(5)) + 1
			r.Bits(32) // num_units_in_decoding_tick
			r.Bits(5)  // buffer_removal_time_length_minus_1
			r.Bits(5)  // frame_presentation_time_length_minus_1
		}
	}
	initialDisplayDelayPresent := r.Flag()
	s.OperatingPoints = int(r.Bits(5)) + 1
	for i := range s.OperatingPoints {
		idc, level, tier := uint16(r.Bits(12)), uint8(r.Bits(5)), uint8(0)
		if level > 7 {
			tier = uint8(r.Bits(1))
		}
		if s.DecoderModelInfoPresent && r.Flag() {
			r.Bits(bufferDelayLength) // decoder_buffer_delay
			r.Bits(bufferDelayLength) // encoder_buffer_delay
			r.Bits(1)                 // low_delay_mode_flag
		}
		if initialDisplayDelayPresent && r.Flag() {
			r.Bits(4) // initial_display_delay_minus_1
		}
		if i == 0 {
			s.OperatingPointIdc, s.LevelIdx, s.Tier = idc, level, tier
		}
	}
}

// readFrameSizes reads the frame size and frame id fields.
func (s *SequenceHeader) readFrameSizes(r *bits.Reader) {
	widthBits, heightBits := int(r.Bits(4))+1, int(r.Bits(4))+1
	s.MaxFrameWidth = int(r.Bits(widthBits)) + 1
	s.MaxFrameHeight = int(r.Bits(heightBits)) + 1
	if !s.ReducedStillPictureHeader {
		s.FrameIDNumbersPresent = r.Flag()
	}
	if s.FrameIDNumbersPresent {
		r.Bits(4) // delta_frame_id_length_minus_2
		r.Bits(3) // additional_frame_id_length_minus_1
	}
}

// readTools reads the coding tool flags up to enable_restoration.
func (s *SequenceHeader) readTools(r *bits.Reader) {
	r.Bits(3) // use_128x128_superblock, enable_filter_intra, enable_intra_edge_filter
	if !s.ReducedStillPictureHeader {
		r.Bits(4) // interintra, masked compound, warped motion, dual filter
		enableOrderHint := r.Flag()
		if enableOrderHint {
			r.Bits(2) // enable_jnt_comp, enable_ref_frame_mvs
		}
		forceScreenContentTools := uint32(2) // SELECT_SCREEN_CONTENT_TOOLS
		if !r.Flag() {                       // seq_choose_screen_content_tools
			forceScreenContentTools = r.Bits(1)
		}
		if forceScreenContentTools > 0 && !r.Flag() { // seq_choose_integer_mv
			r.Bits(1) // seq_force_integer_mv
		}
		if enableOrderHint {
			s.OrderHintBits = int(r.Bits(3)) + 1
		}
	}
	r.Bits(3) // enable_superres, enable_cdef, enable_restoration
}

// read reads color_config() (§5.5.2) for seq_profile profile.
func (c *ColorConfig) read(r *bits.Reader, profile uint8) {
	c.HighBitdepth = r.Flag()
	c.BitDepth = 8
	switch {
	case profile == 2 && c.HighBitdepth:
		c.TwelveBit = r.Flag()
		c.BitDepth = 10
		if c.TwelveBit {
			c.BitDepth = 12
		}
	case c.HighBitdepth:
		c.BitDepth = 10
	}
	if profile != 1 {
		c.MonoChrome = r.Flag()
	}
	c.ColorPrimaries, c.TransferCharacteristics, c.MatrixCoefficients = unspecified, unspecified, unspecified
	if r.Flag() { // color_description_present_flag
		c.ColorPrimaries, c.TransferCharacteristics, c.MatrixCoefficients = uint8(r.Bits(8)), uint8(r.Bits(8)), uint8(r.Bits(8))
	}
	switch {
	case c.MonoChrome:
		c.FullRange = r.Flag()
		c.SubsamplingX, c.SubsamplingY = true, true
		return
	case c.ColorPrimaries == cpBT709 && c.TransferCharacteristics == tcSRGB && c.MatrixCoefficients == mcIdentity:
		c.FullRange = true
	default:
		c.FullRange = r.Flag()
		c.readSubsampling(r, profile)
	}
	c.SeparateUVDeltaQ = r.Flag()
}

func (c *ColorConfig) readSubsampling(r *bits.Reader, profile uint8) {
	switch {
	case profile == 0:
		c.SubsamplingX, c.SubsamplingY = true, true
	case profile == 1:
	case c.BitDepth == 12:
		c.SubsamplingX = r.Flag()
		if c.SubsamplingX {
			c.SubsamplingY = r.Flag()
		}
	default:
		c.SubsamplingX = true
	}
	if c.SubsamplingX && c.SubsamplingY {
		c.ChromaSamplePosition = uint8(r.Bits(2))
	}
}
