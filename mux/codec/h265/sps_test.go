package h265

import (
	"errors"
	"testing"
)

func TestParseSPSSizes(t *testing.T) {
	tests := []struct {
		name          string
		f             spsFields
		width, height int
	}{
		{"1280x720", spsFields{chroma: 1, width: 1280, height: 720}, 1280, 720},
		{"1920x1080 coded as 1088", spsFields{chroma: 1, width: 1920, height: 1088, window: [4]uint32{0, 0, 0, 4}}, 1920, 1080},
		{"352x288", spsFields{chroma: 1, width: 352, height: 288}, 352, 288},
		{"642x362", spsFields{chroma: 1, width: 648, height: 368, window: [4]uint32{0, 3, 0, 3}}, 642, 362},
		{"window on every side", spsFields{chroma: 1, width: 320, height: 240, window: [4]uint32{1, 2, 3, 4}}, 314, 226},
		{"4:2:2 window unit 2x1", spsFields{chroma: 2, width: 320, height: 240, window: [4]uint32{0, 1, 0, 3}}, 318, 237},
		{"4:4:4 window unit 1x1", spsFields{chroma: 3, width: 320, height: 240, window: [4]uint32{0, 1, 0, 3}}, 319, 237},
		{"4:4:4 separate planes", spsFields{chroma: 3, separatePlanes: true, width: 320, height: 240,
			window: [4]uint32{0, 1, 0, 3}}, 319, 237},
		{"monochrome", spsFields{chroma: 0, width: 320, height: 240, window: [4]uint32{0, 1, 0, 1}}, 319, 239},
		{"three sub-layers with sub-layer PTL", spsFields{chroma: 1, subLayers: 3, subLayerInfo: true,
			width: 640, height: 480}, 640, 480},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParseSPS(buildSPS(tt.f))
			if err != nil {
				t.Fatalf("ParseSPS: %v", err)
			}
			if s.Width != tt.width || s.Height != tt.height {
				t.Fatalf("size %dx%d, want %dx%d", s.Width, s.Height, tt.width, tt.height)
			}
		})
	}
}

func TestParseSPSFields(t *testing.T) {
	mainPTL := ProfileTierLevel{ProfileIDC: 1, CompatibilityFlags: 0x60000000, ConstraintFlags: 0x900000000000, LevelIDC: 93}
	tests := []struct {
		name string
		f    spsFields
		want SPS
	}{
		{"main", spsFields{id: 2, vpsID: 1, chroma: 1, width: 320, height: 240},
			SPS{VPSID: 1, ID: 2, MaxSubLayers: 1, TemporalIDNesting: true, PTL: mainPTL, ChromaFormatIDC: 1,
				BitDepthLuma: 8, BitDepthChroma: 8, Width: 320, Height: 240}},
		{"10 bit", spsFields{chroma: 1, bitDepth: 2, width: 320, height: 240},
			SPS{MaxSubLayers: 1, TemporalIDNesting: true, PTL: mainPTL, ChromaFormatIDC: 1,
				BitDepthLuma: 10, BitDepthChroma: 10, Width: 320, Height: 240}},
		{"reordering in the highest of 3 sub-layers", spsFields{chroma: 1, subLayers: 3, width: 320, height: 240,
			reorder: []uint32{0, 0, 2}},
			SPS{MaxSubLayers: 3, TemporalIDNesting: true, PTL: mainPTL, ChromaFormatIDC: 1,
				BitDepthLuma: 8, BitDepthChroma: 8, Width: 320, Height: 240, MaxNumReorderPics: 2}},
		{"reordering without sub-layer info", spsFields{chroma: 1, subLayers: 2, width: 320, height: 240,
			reorder: []uint32{1}},
			SPS{MaxSubLayers: 2, TemporalIDNesting: true, PTL: mainPTL, ChromaFormatIDC: 1,
				BitDepthLuma: 8, BitDepthChroma: 8, Width: 320, Height: 240, MaxNumReorderPics: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSPS(buildSPS(tt.f))
			if err != nil {
				t.Fatalf("ParseSPS: %v", err)
			}
			if got != tt.want {
				t.Fatalf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseSPSErrors(t *testing.T) {
	valid := buildSPS(spsFields{chroma: 1, width: 320, height: 240})
	tests := []struct {
		name string
		nalu []byte
		want error
	}{
		{"empty", nil, errSPSNotSPS},
		{"not an SPS", append(header(naluPPS), valid[2:]...), errSPSNotSPS},
		{"layer 1", append([]byte{valid[0] | 0, valid[1] | 8}, valid[2:]...), errSPSNotSPS},
		{"truncated", valid[:20], nil},
		{"8 sub-layers", buildSPS(spsFields{chroma: 1, subLayers: 8, width: 320, height: 240}), errSPSValue},
		{"sps id 16", buildSPS(spsFields{id: 16, chroma: 1, width: 320, height: 240}), errSPSValue},
		{"chroma format 4", buildSPS(spsFields{chroma: 4, width: 320, height: 240}), errSPSValue},
		{"width too large", buildSPS(spsFields{chroma: 1, width: maxLumaSamples + 1, height: 240}), errSPSValue},
		{"zero height", buildSPS(spsFields{chroma: 1, width: 320, height: 0}), errSPSCrop},
		{"window covers the picture", buildSPS(spsFields{chroma: 1, width: 16, height: 16, window: [4]uint32{4, 4, 0, 0}}), errSPSCrop},
		{"bit depth 17", buildSPS(spsFields{chroma: 1, bitDepth: 9, width: 320, height: 240}), errSPSValue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParseSPS(tt.nalu)
			if err == nil {
				t.Fatalf("ParseSPS succeeded: %+v", s)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("err %v, want %v", err, tt.want)
			}
		})
	}
}

func FuzzParseSPS(f *testing.F) {
	f.Add(buildSPS(spsFields{chroma: 1, width: 648, height: 368, window: [4]uint32{0, 3, 0, 3}}))
	f.Add(buildSPS(spsFields{chroma: 3, separatePlanes: true, subLayers: 3, subLayerInfo: true, width: 64, height: 64,
		reorder: []uint32{0, 1, 2}}))
	f.Fuzz(func(t *testing.T, nalu []byte) {
		s, err := ParseSPS(nalu)
		if err != nil {
			return
		}
		if s.Width <= 0 || s.Height <= 0 || s.Width > maxLumaSamples || s.Height > maxLumaSamples {
			t.Fatalf("implausible size %dx%d", s.Width, s.Height)
		}
		if s.ChromaFormatIDC > 3 || s.BitDepthLuma > 16 || s.MaxSubLayers > maxSubLayers || s.ID > maxSPSID {
			t.Fatalf("implausible SPS %+v", s)
		}
	})
}
