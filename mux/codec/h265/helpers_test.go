package h265

import (
	"github.com/kiroku-sfu/kiroku/mux/codec/internal/bits"
)

// header returns a NAL unit header of type t, layer 0, temporal id 0.
func header(t byte) []byte { return []byte{t << 1, 1} }

// spsFields describes an SPS for buildSPS.
type spsFields struct {
	id, vpsID      uint32
	subLayers      uint32 // sps_max_sub_layers_minus1 + 1; 0 means 1
	subLayerInfo   bool   // sub-layer profile and level present
	chroma         uint32
	separatePlanes bool
	width, height  uint32
	window         [4]uint32 // left, right, top, bottom
	bitDepth       uint32    // minus 8
	reorder        []uint32  // per sub-layer; nil means 0 for one entry
}

// buildSPS writes an SPS NAL unit field by field (§7.3.2.2) up to the
// sub-layer ordering info, then stand-in bits.
func buildSPS(f spsFields) []byte {
	var w bits.Writer
	w.Bits(16, 0x4201)
	w.Bits(4, uint64(f.vpsID))
	sub := max(f.subLayers, 1)
	w.Bits(3, uint64(sub-1))
	w.Bit(1) // sps_temporal_id_nesting_flag
	writePTL(&w, int(sub-1), f.subLayerInfo)
	w.UE(f.id)
	w.UE(f.chroma)
	if f.chroma == 3 {
		w.Flag(f.separatePlanes)
	}
	w.UE(f.width)
	w.UE(f.height)
	windowed := f.window != [4]uint32{}
	w.Flag(windowed)
	if windowed {
		for _, v := range f.window {
			w.UE(v)
		}
	}
	w.UE(f.bitDepth)
	w.UE(f.bitDepth)
	w.UE(4) // log2_max_pic_order_cnt_lsb_minus4
	reorder := f.reorder
	if reorder == nil {
		reorder = []uint32{0}
	}
	w.Flag(len(reorder) > 1) // sps_sub_layer_ordering_info_present_flag
	for _, r := range reorder {
		w.UE(r + 1)
		w.UE(r)
		w.UE(0)
	}
	w.Bits(12, 0xabc)
	w.TrailingBits()
	return bits.Escape(w.Bytes())
}

// writePTL writes profile_tier_level(1, maxSubLayersMinus1): Main profile,
// level 3.1, progressive and frame-only constraint flags.
func writePTL(w *bits.Writer, maxSubLayersMinus1 int, subLayerInfo bool) {
	w.Bits(2, 0)
	w.Bit(0)
	w.Bits(5, 1)
	w.Bits(32, 0x60000000)
	w.Bits(48, 0x900000000000)
	w.Bits(8, 93)
	for range maxSubLayersMinus1 {
		w.Flag(subLayerInfo)
		w.Flag(subLayerInfo)
	}
	if maxSubLayersMinus1 > 0 {
		w.Bits(2*(8-maxSubLayersMinus1), 0)
	}
	for range maxSubLayersMinus1 {
		if subLayerInfo {
			w.Bits(88, 0)
			w.Bits(8, 90)
		}
	}
}

// buildVPS writes a VPS-like NAL unit: only its id is read.
func buildVPS(id byte) []byte {
	return append(header(naluVPS), id<<4|0x0c, 0x01, 0xff, 0xff)
}

// buildPPS writes the start of a PPS NAL unit: enough for its ids.
func buildPPS(ppsID, spsID uint32) []byte {
	var w bits.Writer
	w.Bits(16, uint64(naluPPS)<<9|1)
	w.UE(ppsID)
	w.UE(spsID)
	w.Bits(7, 0x31)
	w.TrailingBits()
	return bits.Escape(w.Bytes())
}

// buildSlice writes a slice segment NAL unit of type t using PPS ppsID,
// with body stand-in bytes after the header fields kiroku reads.
func buildSlice(t byte, ppsID uint32, body int) []byte {
	var w bits.Writer
	w.Bits(16, uint64(t)<<9|1)
	w.Bit(1) // first_slice_segment_in_pic_flag
	if isIRAP(t) {
		w.Bit(0)
	}
	w.UE(ppsID)
	for i := range body {
		w.Bits(8, uint64(i*5+3))
	}
	w.TrailingBits()
	return bits.Escape(w.Bytes())
}

// avcc joins NAL units with 4-byte length prefixes.
func avcc(nalus ...[]byte) []byte {
	var out []byte
	for _, n := range nalus {
		out = append(out, byte(len(n)>>24), byte(len(n)>>16), byte(len(n)>>8), byte(len(n)))
		out = append(out, n...)
	}
	return out
}

// ap packs NAL units into an aggregation packet without DONL.
func ap(nalus ...[]byte) []byte {
	out := header(pktAP)
	for _, n := range nalus {
		out = append(out, byte(len(n)>>8), byte(len(n)))
		out = append(out, n...)
	}
	return out
}

// fu splits a NAL unit into FU payloads of at most size payload bytes.
func fu(nalu []byte, size int) [][]byte {
	var out [][]byte
	body := nalu[2:]
	for first := true; first || len(body) > 0; first = false {
		n := min(size, len(body))
		fuHeader := nalType(nalu)
		if first {
			fuHeader |= fuStartBit
		}
		if n == len(body) {
			fuHeader |= fuEndBit
		}
		pkt := []byte{nalu[0]&0x81 | pktFU<<1, nalu[1], fuHeader}
		out = append(out, append(pkt, body[:n]...))
		body = body[n:]
	}
	return out
}

func cat(parts ...[][]byte) [][]byte {
	var out [][]byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}
