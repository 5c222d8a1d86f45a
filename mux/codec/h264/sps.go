package h264

import (
	"errors"
	"fmt"

	"github.com/kiroku-sfu/kiroku/mux/codec/internal/bits"
)

// Limits that keep parsing bounded and sizes meaningful. The largest H.264
// level (6.2) allows 139264 macroblocks per frame, far below maxMBs squared.
const (
	maxSPSID    = 31
	maxPPSID    = 255
	maxMBs      = 2048 // per dimension: 32768 pixels
	maxPOCCycle = 255
	maxCPBCount = 31
)

var (
	errSPSValue  = errors.New("value out of range")
	errSPSNotSPS = errors.New("not an SPS NAL unit")
	errSPSCrop   = errors.New("cropping leaves no picture")
)

// SPS is what kiroku needs from an H.264 sequence parameter set
// (ITU-T H.264 §7.3.2.1.1).
type SPS struct {
	ID              uint8
	ProfileIDC      uint8
	ConstraintFlags uint8 // constraint_set0..5 flags and the two reserved bits, as coded
	LevelIDC        uint8
	ChromaFormatIDC uint8 // 0: monochrome, 1: 4:2:0, 2: 4:2:2, 3: 4:4:4
	BitDepthLuma    uint8
	BitDepthChroma  uint8
	FrameMBsOnly    bool // false for interlaced (field or MBAFF) coding
	// Width and Height are the displayed size in pixels, after cropping.
	Width, Height int
	// BitstreamRestriction reports whether the VUI carries
	// max_num_reorder_frames; MaxNumReorderFrames is 0 when it does not.
	BitstreamRestriction bool
	MaxNumReorderFrames  uint32
}

// ParseSPS parses an SPS NAL unit (header byte included, emulation
// prevention bytes still in place, as carried in RTP).
func ParseSPS(nalu []byte) (SPS, error) {
	if len(nalu) < 4 || nalu[0]&0x1f != naluSPS {
		return SPS{}, fmt.Errorf("h264: parse SPS: %w", errSPSNotSPS)
	}
	r := bits.NewReader(nalu[1:])
	s := SPS{
		ProfileIDC:      uint8(r.Bits(8)),
		ConstraintFlags: uint8(r.Bits(8)),
		LevelIDC:        uint8(r.Bits(8)),
		ChromaFormatIDC: 1,
		BitDepthLuma:    8,
		BitDepthChroma:  8,
	}
	s.ID = uint8(r.UEMax(maxSPSID, errSPSValue))
	separatePlanes := false
	if hasChromaInfo(s.ProfileIDC) {
		separatePlanes = s.readChromaInfo(&r)
	}
	readFrameNumAndPOC(&r)
	r.UE() // max_num_ref_frames
	r.Skip(1)
	wMBs := r.UEMax(maxMBs-1, errSPSValue) + 1
	hMapUnits := r.UEMax(maxMBs-1, errSPSValue) + 1
	s.FrameMBsOnly = r.Flag()
	if !s.FrameMBsOnly {
		r.Skip(1) // mb_adaptive_frame_field_flag
	}
	r.Skip(1) // direct_8x8_inference_flag
	if err := s.setSize(&r, wMBs, hMapUnits, separatePlanes); err != nil {
		return SPS{}, fmt.Errorf("h264: parse SPS: %w", err)
	}
	if r.Flag() { // vui_parameters_present_flag
		s.readVUI(&r)
	}
	if err := r.Err(); err != nil {
		return SPS{}, fmt.Errorf("h264: parse SPS: %w", err)
	}
	return s, nil
}

// hasChromaInfo reports whether profile_idc puts chroma format, bit depths
// and scaling matrices in the SPS.
func hasChromaInfo(profile uint8) bool {
	switch profile {
	case 100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135:
		return true
	}
	return false
}

// readChromaInfo reads the high-profile fields and reports
// separate_colour_plane_flag.
func (s *SPS) readChromaInfo(r *bits.Reader) bool {
	s.ChromaFormatIDC = uint8(r.UEMax(3, errSPSValue))
	separate := false
	if s.ChromaFormatIDC == 3 {
		separate = r.Flag()
	}
	s.BitDepthLuma = uint8(r.UEMax(6, errSPSValue)) + 8
	s.BitDepthChroma = uint8(r.UEMax(6, errSPSValue)) + 8
	r.Skip(1)     // qpprime_y_zero_transform_bypass_flag
	if r.Flag() { // seq_scaling_matrix_present_flag
		lists := 8
		if s.ChromaFormatIDC == 3 {
			lists = 12
		}
		for i := 0; i < lists && r.Err() == nil; i++ {
			if r.Flag() {
				size := 16
				if i >= 6 {
					size = 64
				}
				skipScalingList(r, size)
			}
		}
	}
	return separate
}

// skipScalingList reads scaling_list() (§7.3.2.1.1.1) and discards it.
func skipScalingList(r *bits.Reader, size int) {
	last, next := int64(8), int64(8)
	for j := 0; j < size && r.Err() == nil; j++ {
		if next != 0 {
			delta := r.SE()
			if delta < -128 || delta > 127 {
				r.Fail(errSPSValue)
				return
			}
			next = (last + delta + 256) % 256
		}
		if next != 0 {
			last = next
		}
	}
}

func readFrameNumAndPOC(r *bits.Reader) {
	r.UEMax(12, errSPSValue) // log2_max_frame_num_minus4
	switch r.UEMax(2, errSPSValue) {
	case 0:
		r.UEMax(12, errSPSValue) // log2_max_pic_order_cnt_lsb_minus4
	case 1:
		r.Skip(1) // delta_pic_order_always_zero_flag
		r.SE()    // offset_for_non_ref_pic
		r.SE()    // offset_for_top_to_bottom_field
		n := r.UEMax(maxPOCCycle, errSPSValue)
		for i := uint32(0); i < n && r.Err() == nil; i++ {
			r.SE()
		}
	}
}

// setSize reads frame cropping and computes the displayed size
// (§7.4.2.1.1, CropUnitX/CropUnitY).
func (s *SPS) setSize(r *bits.Reader, wMBs, hMapUnits uint32, separatePlanes bool) error {
	fieldFactor := 2
	if s.FrameMBsOnly {
		fieldFactor = 1
	}
	width := int(wMBs) * 16
	height := int(hMapUnits) * 16 * fieldFactor
	if r.Flag() { // frame_cropping_flag
		unitX, unitY := 1, fieldFactor
		if !separatePlanes && s.ChromaFormatIDC != 0 {
			subW, subH := subsampling(s.ChromaFormatIDC)
			unitX, unitY = subW, subH*fieldFactor
		}
		left, right := int(r.UEMax(maxMBs*16, errSPSValue)), int(r.UEMax(maxMBs*16, errSPSValue))
		top, bottom := int(r.UEMax(maxMBs*16, errSPSValue)), int(r.UEMax(maxMBs*16, errSPSValue))
		width -= unitX * (left + right)
		height -= unitY * (top + bottom)
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

// subsampling returns SubWidthC and SubHeightC for a chroma_format_idc of
// 1, 2 or 3.
func subsampling(chromaFormat uint8) (w, h int) {
	switch chromaFormat {
	case 1:
		return 2, 2
	case 2:
		return 2, 1
	}
	return 1, 1
}

// readVUI reads vui_parameters() (Annex E.1.1) for the bitstream
// restriction, the only part kiroku uses.
func (s *SPS) readVUI(r *bits.Reader) {
	if r.Flag() { // aspect_ratio_info_present_flag
		if r.Bits(8) == 255 { // Extended_SAR
			r.Skip(32)
		}
	}
	if r.Flag() { // overscan_info_present_flag
		r.Skip(1)
	}
	if r.Flag() { // video_signal_type_present_flag
		r.Skip(4) // video_format, video_full_range_flag
		if r.Flag() {
			r.Skip(24) // colour description
		}
	}
	if r.Flag() { // chroma_loc_info_present_flag
		r.UE()
		r.UE()
	}
	if r.Flag() { // timing_info_present_flag
		r.Skip(65)
	}
	s.readVUIRestriction(r)
}

// readVUIRestriction reads the rest of vui_parameters(): HRD parameters
// and the bitstream restriction.
func (s *SPS) readVUIRestriction(r *bits.Reader) {
	nalHRD := r.Flag()
	if nalHRD {
		skipHRD(r)
	}
	vclHRD := r.Flag()
	if vclHRD {
		skipHRD(r)
	}
	if nalHRD || vclHRD {
		r.Skip(1) // low_delay_hrd_flag
	}
	r.Skip(1)     // pic_struct_present_flag
	if r.Flag() { // bitstream_restriction_flag
		r.Skip(1) // motion_vectors_over_pic_boundaries_flag
		for range 4 {
			r.UE() // max_bytes_per_pic_denom .. log2_max_mv_length_vertical
		}
		s.MaxNumReorderFrames = r.UE()
		r.UE() // max_dec_frame_buffering
		s.BitstreamRestriction = r.Err() == nil
	}
}

// skipHRD reads hrd_parameters() (Annex E.1.2).
func skipHRD(r *bits.Reader) {
	n := r.UEMax(maxCPBCount, errSPSValue) + 1
	r.Skip(8) // bit_rate_scale, cpb_size_scale
	for i := uint32(0); i < n && r.Err() == nil; i++ {
		r.UE()
		r.UE()
		r.Skip(1)
	}
	r.Skip(20)
}
