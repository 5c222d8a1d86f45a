package h265

import (
	"errors"
	"fmt"

	"github.com/kiroku-sfu/kiroku/mux/codec/internal/bits"
)

// Limits that keep parsing bounded and sizes meaningful (ITU-T H.265 §7.4.3).
const (
	maxVPSID       = 15
	maxSPSID       = 15
	maxPPSID       = 63
	maxSubLayers   = 7
	maxLumaSamples = 1 << 15 // per dimension
)

var (
	errSPSValue  = errors.New("value out of range")
	errSPSNotSPS = errors.New("not an SPS NAL unit of the base layer")
	errSPSCrop   = errors.New("conformance window leaves no picture")
)

// ProfileTierLevel holds the general part of profile_tier_level()
// (§7.3.3), as the hvcC record repeats it.
type ProfileTierLevel struct {
	ProfileSpace       uint8 // general_profile_space
	Tier               uint8 // general_tier_flag
	ProfileIDC         uint8 // general_profile_idc: 1 Main, 2 Main 10, ...
	CompatibilityFlags uint32
	ConstraintFlags    uint64 // the 48 bits from general_progressive_source_flag on
	LevelIDC           uint8  // 30 × the level number
}

// SPS is what kiroku needs from an H.265 sequence parameter set (§7.3.2.2).
type SPS struct {
	VPSID             uint8
	ID                uint8
	MaxSubLayers      uint8 // sps_max_sub_layers_minus1 + 1
	TemporalIDNesting bool
	PTL               ProfileTierLevel
	ChromaFormatIDC   uint8 // 0: monochrome, 1: 4:2:0, 2: 4:2:2, 3: 4:4:4
	BitDepthLuma      uint8
	BitDepthChroma    uint8
	// Width and Height are the displayed size in pixels, inside the
	// conformance window.
	Width, Height int
	// MaxNumReorderPics is sps_max_num_reorder_pics of the highest
	// sub-layer: how many pictures may precede another in decoding order
	// and follow it in output order.
	MaxNumReorderPics uint32
}

// ParseSPS parses an SPS NAL unit (2-byte header included, emulation
// prevention bytes still in place, as carried in RTP).
func ParseSPS(nalu []byte) (SPS, error) {
	if len(nalu) < 3 || nalType(nalu) != naluSPS || layerID(nalu) != 0 {
		return SPS{}, fmt.Errorf("h265: parse SPS: %w", errSPSNotSPS)
	}
	r := bits.NewReader(nalu[2:])
	s := SPS{VPSID: uint8(r.Bits(4))}
	subLayersMinus1 := r.Bits(3)
	if subLayersMinus1 >= maxSubLayers {
		r.Fail(errSPSValue)
	}
	s.MaxSubLayers = uint8(subLayersMinus1) + 1
	s.TemporalIDNesting = r.Flag()
	s.PTL = readPTL(&r, int(subLayersMinus1))
	s.ID = uint8(r.UEMax(maxSPSID, errSPSValue))
	separatePlanes := s.readFormat(&r)
	if err := s.readSize(&r, separatePlanes); err != nil {
		return SPS{}, fmt.Errorf("h265: parse SPS: %w", err)
	}
	s.BitDepthLuma = uint8(r.UEMax(8, errSPSValue)) + 8
	s.BitDepthChroma = uint8(r.UEMax(8, errSPSValue)) + 8
	r.UEMax(12, errSPSValue) // log2_max_pic_order_cnt_lsb_minus4
	first := subLayersMinus1
	if r.Flag() { // sps_sub_layer_ordering_info_present_flag
		first = 0
	}
	for i := first; i <= subLayersMinus1 && r.Err() == nil; i++ {
		r.UE() // sps_max_dec_pic_buffering_minus1
		s.MaxNumReorderPics = r.UE()
		r.UE() // sps_max_latency_increase_plus1
	}
	if err := r.Err(); err != nil {
		return SPS{}, fmt.Errorf("h265: parse SPS: %w", err)
	}
	return s, nil
}

// readPTL reads profile_tier_level(1, maxSubLayersMinus1) and returns its
// general part.
func readPTL(r *bits.Reader, maxSubLayersMinus1 int) ProfileTierLevel {
	p := ProfileTierLevel{
		ProfileSpace:       uint8(r.Bits(2)),
		Tier:               uint8(r.Bits(1)),
		ProfileIDC:         uint8(r.Bits(5)),
		CompatibilityFlags: r.Bits(32),
		ConstraintFlags:    r.Bits64(48),
		LevelIDC:           uint8(r.Bits(8)),
	}
	var profilePresent, levelPresent [maxSubLayers]bool
	for i := 0; i < maxSubLayersMinus1; i++ {
		profilePresent[i] = r.Flag()
		levelPresent[i] = r.Flag()
	}
	if maxSubLayersMinus1 > 0 {
		r.Skip(2 * (8 - maxSubLayersMinus1)) // reserved_zero_2bits
	}
	for i := 0; i < maxSubLayersMinus1; i++ {
		if profilePresent[i] {
			r.Skip(88)
		}
		if levelPresent[i] {
			r.Skip(8)
		}
	}
	return p
}

// readFormat reads the chroma format and reports separate_colour_plane_flag.
func (s *SPS) readFormat(r *bits.Reader) bool {
	s.ChromaFormatIDC = uint8(r.UEMax(3, errSPSValue))
	if s.ChromaFormatIDC == 3 {
		return r.Flag()
	}
	return false
}

// readSize reads the coded size and the conformance window (§7.4.3.2.1).
func (s *SPS) readSize(r *bits.Reader, separatePlanes bool) error {
	width := int(r.UEMax(maxLumaSamples, errSPSValue))
	height := int(r.UEMax(maxLumaSamples, errSPSValue))
	if r.Flag() { // conformance_window_flag
		subW, subH := 1, 1
		if !separatePlanes {
			subW, subH = subsampling(s.ChromaFormatIDC)
		}
		left, right := int(r.UEMax(maxLumaSamples, errSPSValue)), int(r.UEMax(maxLumaSamples, errSPSValue))
		top, bottom := int(r.UEMax(maxLumaSamples, errSPSValue)), int(r.UEMax(maxLumaSamples, errSPSValue))
		width -= subW * (left + right)
		height -= subH * (top + bottom)
	}
	if err := r.Err(); err != nil {
		return err
	}
	if width <= 0 || height <= 0 {
		return errSPSCrop
	}
	s.Width, s.Height = width, height
	return nil
}

// subsampling returns SubWidthC and SubHeightC for chroma_format_idc.
func subsampling(chromaFormat uint8) (w, h int) {
	switch chromaFormat {
	case 1:
		return 2, 2
	case 2:
		return 2, 1
	}
	return 1, 1
}
