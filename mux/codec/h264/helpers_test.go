package h264

import (
	"github.com/kiroku-sfu/kiroku/mux/codec/internal/bits"
)

// spsFields describes an SPS for buildSPS. Zero values give a 4:2:0 8-bit
// Baseline SPS without cropping or VUI.
type spsFields struct {
	profile, level  uint8
	id              uint32
	chroma          uint32 // used for high profiles
	separatePlanes  bool
	bitDepth        uint32 // luma and chroma bit depth minus 8
	scalingLists    bool
	pocType         uint32
	wMBs, hMapUnits uint32
	fieldCoding     bool      // frame_mbs_only_flag = 0
	crop            [4]uint32 // left, right, top, bottom
	vui             bool
	hrd             bool
	reorder         *uint32 // bitstream restriction's max_num_reorder_frames
}

// buildSPS writes an SPS NAL unit field by field (§7.3.2.1.1).
func buildSPS(f spsFields) []byte {
	var w bits.Writer
	w.Bits(8, 0x67)
	w.Bits(8, uint64(f.profile))
	w.Bits(8, 0)
	w.Bits(8, uint64(f.level))
	w.UE(f.id)
	if hasChromaInfo(f.profile) {
		w.UE(f.chroma)
		if f.chroma == 3 {
			w.Flag(f.separatePlanes)
		}
		w.UE(f.bitDepth)
		w.UE(f.bitDepth)
		w.Bit(0)
		w.Flag(f.scalingLists)
		if f.scalingLists {
			writeScalingLists(&w, f.chroma)
		}
	}
	w.UE(0) // log2_max_frame_num_minus4
	w.UE(f.pocType)
	switch f.pocType {
	case 0:
		w.UE(2)
	case 1:
		w.Bit(0)
		w.SE(-3)
		w.SE(5)
		w.UE(2)
		w.SE(1)
		w.SE(-1)
	}
	w.UE(1) // max_num_ref_frames
	w.Bit(0)
	w.UE(f.wMBs - 1)
	w.UE(f.hMapUnits - 1)
	w.Flag(!f.fieldCoding)
	if f.fieldCoding {
		w.Bit(1)
	}
	w.Bit(1)
	cropped := f.crop != [4]uint32{}
	w.Flag(cropped)
	if cropped {
		for _, c := range f.crop {
			w.UE(c)
		}
	}
	w.Flag(f.vui)
	if f.vui {
		writeVUI(&w, f)
	}
	w.TrailingBits()
	return bits.Escape(w.Bytes())
}

// writeScalingLists sends every list; list 1 uses the default-matrix
// escape (a delta that makes nextScale 0) and the rest are flat.
func writeScalingLists(w *bits.Writer, chroma uint32) {
	n := 8
	if chroma == 3 {
		n = 12
	}
	for i := range n {
		w.Bit(1)
		if i == 1 {
			w.SE(-8)
			continue
		}
		size := 16
		if i >= 6 {
			size = 64
		}
		w.SE(1) // nextScale 9, then unchanged
		for range size - 1 {
			w.SE(0)
		}
	}
}

func writeVUI(w *bits.Writer, f spsFields) {
	w.Bit(1)       // aspect_ratio_info_present_flag
	w.Bits(8, 255) // Extended_SAR
	w.Bits(32, 0x10001)
	w.Bit(0) // overscan
	w.Bit(1) // video_signal_type_present_flag
	w.Bits(4, 5)
	w.Bit(1)
	w.Bits(24, 0x010101)
	w.Bit(1) // chroma_loc_info_present_flag
	w.UE(0)
	w.UE(0)
	w.Bit(1) // timing_info_present_flag
	w.Bits(32, 1)
	w.Bits(32, 60)
	w.Bit(1)
	w.Flag(f.hrd) // nal_hrd_parameters_present_flag
	if f.hrd {
		w.UE(1) // cpb_cnt_minus1
		w.Bits(8, 0x34)
		for range 2 {
			w.UE(1000)
			w.UE(2000)
			w.Bit(1)
		}
		w.Bits(20, 0xfffff)
	}
	w.Bit(0) // vcl_hrd_parameters_present_flag
	if f.hrd {
		w.Bit(0) // low_delay_hrd_flag
	}
	w.Bit(0) // pic_struct_present_flag
	w.Flag(f.reorder != nil)
	if f.reorder != nil {
		w.Bit(1)
		w.UE(2)
		w.UE(1)
		w.UE(16)
		w.UE(16)
		w.UE(*f.reorder)
		w.UE(*f.reorder + 1)
	}
}

// buildPPS writes the start of a PPS NAL unit: enough for its ids.
func buildPPS(ppsID, spsID uint32) []byte {
	var w bits.Writer
	w.Bits(8, 0x68)
	w.UE(ppsID)
	w.UE(spsID)
	w.Bits(5, 0b01100)
	w.TrailingBits()
	return bits.Escape(w.Bytes())
}

// buildSlice writes a slice NAL unit of nalType (1 or 5) whose header
// starts with first_mb_in_slice, slice_type and the PPS id, followed by
// body bytes standing in for the rest of the slice.
func buildSlice(nalType byte, firstMB, sliceType, ppsID uint32, body int) []byte {
	var w bits.Writer
	w.Bits(8, uint64(0x60|nalType))
	w.UE(firstMB)
	w.UE(sliceType)
	w.UE(ppsID)
	for i := range body {
		w.Bits(8, uint64(i*7+1))
	}
	w.TrailingBits()
	return bits.Escape(w.Bytes())
}

func u32(v uint32) *uint32 { return &v }

// avcc joins NAL units with 4-byte length prefixes.
func avcc(nalus ...[]byte) []byte {
	var out []byte
	for _, n := range nalus {
		out = append(out, byte(len(n)>>24), byte(len(n)>>16), byte(len(n)>>8), byte(len(n)))
		out = append(out, n...)
	}
	return out
}

// stapA packs NAL units into a STAP-A payload.
func stapA(nalus ...[]byte) []byte {
	out := []byte{pktSTAPA}
	for _, n := range nalus {
		out = append(out, byte(len(n)>>8), byte(len(n)))
		out = append(out, n...)
	}
	return out
}

// fuA splits a NAL unit into FU-A payloads of at most size payload bytes.
func fuA(nalu []byte, size int) [][]byte {
	var out [][]byte
	body := nalu[1:]
	for first := true; first || len(body) > 0; first = false {
		n := min(size, len(body))
		hdr := nalu[0] & 0x1f
		if first {
			hdr |= fuStartBit
		}
		if n == len(body) {
			hdr |= fuEndBit
		}
		out = append(out, append([]byte{nalu[0]&0xe0 | pktFUA, hdr}, body[:n]...))
		body = body[n:]
	}
	return out
}
