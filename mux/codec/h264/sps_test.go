package h264

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
		{"1280x720 baseline", spsFields{profile: 66, level: 31, wMBs: 80, hMapUnits: 45}, 1280, 720},
		{"1920x1080 cropped", spsFields{profile: 100, level: 40, chroma: 1, wMBs: 120, hMapUnits: 68,
			crop: [4]uint32{0, 0, 0, 4}}, 1920, 1080},
		{"352x288 main", spsFields{profile: 77, level: 13, wMBs: 22, hMapUnits: 18}, 352, 288},
		{"642x362 cropped both ways", spsFields{profile: 66, wMBs: 41, hMapUnits: 23,
			crop: [4]uint32{0, 7, 0, 3}}, 642, 362},
		{"crop left and top", spsFields{profile: 66, wMBs: 20, hMapUnits: 15,
			crop: [4]uint32{2, 0, 1, 0}}, 316, 238},
		{"interlaced 1080", spsFields{profile: 100, chroma: 1, wMBs: 120, hMapUnits: 34,
			fieldCoding: true, crop: [4]uint32{0, 0, 0, 2}}, 1920, 1080},
		{"4:2:2 crop unit 2x1", spsFields{profile: 122, chroma: 2, wMBs: 20, hMapUnits: 15,
			crop: [4]uint32{0, 1, 0, 3}}, 318, 237},
		{"4:4:4 crop unit 1x1", spsFields{profile: 244, chroma: 3, wMBs: 20, hMapUnits: 15,
			crop: [4]uint32{0, 1, 0, 3}}, 319, 237},
		{"4:4:4 separate planes", spsFields{profile: 244, chroma: 3, separatePlanes: true,
			wMBs: 20, hMapUnits: 15, crop: [4]uint32{0, 1, 0, 3}}, 319, 237},
		{"monochrome", spsFields{profile: 100, chroma: 0, wMBs: 20, hMapUnits: 15,
			crop: [4]uint32{0, 1, 0, 1}}, 319, 239},
		{"high with scaling lists", spsFields{profile: 100, chroma: 1, scalingLists: true,
			wMBs: 40, hMapUnits: 30}, 640, 480},
		{"4:4:4 with 12 scaling lists", spsFields{profile: 244, chroma: 3, scalingLists: true,
			wMBs: 40, hMapUnits: 30}, 640, 480},
		{"POC type 1", spsFields{profile: 77, pocType: 1, wMBs: 40, hMapUnits: 30}, 640, 480},
		{"POC type 2 with VUI and HRD", spsFields{profile: 66, pocType: 2, wMBs: 40, hMapUnits: 30,
			vui: true, hrd: true}, 640, 480},
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
			if s.ProfileIDC != tt.f.profile || s.LevelIDC != tt.f.level || s.FrameMBsOnly == tt.f.fieldCoding {
				t.Fatalf("parsed %+v from %+v", s, tt.f)
			}
			if s.BitstreamRestriction {
				t.Fatal("bitstream restriction reported but not sent")
			}
		})
	}
}

func TestParseSPSFields(t *testing.T) {
	tests := []struct {
		name string
		f    spsFields
		want SPS
	}{
		{"baseline defaults", spsFields{profile: 66, level: 31, id: 3, wMBs: 20, hMapUnits: 15},
			SPS{ID: 3, ProfileIDC: 66, LevelIDC: 31, ChromaFormatIDC: 1, BitDepthLuma: 8, BitDepthChroma: 8,
				FrameMBsOnly: true, Width: 320, Height: 240}},
		{"high 10 4:2:2", spsFields{profile: 110, level: 40, chroma: 2, bitDepth: 2, wMBs: 20, hMapUnits: 15},
			SPS{ProfileIDC: 110, LevelIDC: 40, ChromaFormatIDC: 2, BitDepthLuma: 10, BitDepthChroma: 10,
				FrameMBsOnly: true, Width: 320, Height: 240}},
		{"no reordering", spsFields{profile: 100, chroma: 1, wMBs: 20, hMapUnits: 15, vui: true, reorder: u32(0)},
			SPS{ProfileIDC: 100, ChromaFormatIDC: 1, BitDepthLuma: 8, BitDepthChroma: 8, FrameMBsOnly: true,
				Width: 320, Height: 240, BitstreamRestriction: true}},
		{"two reordered frames", spsFields{profile: 100, chroma: 1, wMBs: 20, hMapUnits: 15, vui: true, hrd: true,
			reorder: u32(2)},
			SPS{ProfileIDC: 100, ChromaFormatIDC: 1, BitDepthLuma: 8, BitDepthChroma: 8, FrameMBsOnly: true,
				Width: 320, Height: 240, BitstreamRestriction: true, MaxNumReorderFrames: 2}},
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
	valid := buildSPS(spsFields{profile: 100, chroma: 1, wMBs: 20, hMapUnits: 15, vui: true, reorder: u32(0)})
	tests := []struct {
		name string
		nalu []byte
	}{
		{"empty", nil},
		{"not an SPS", append([]byte{0x68}, valid[1:]...)},
		{"header only", valid[:4]},
		{"truncated in VUI", valid[:len(valid)-3]},
		{"sps id too large", buildSPS(spsFields{profile: 66, id: 32, wMBs: 20, hMapUnits: 15})},
		{"chroma format too large", buildSPS(spsFields{profile: 100, chroma: 4, wMBs: 20, hMapUnits: 15})},
		{"bit depth too large", buildSPS(spsFields{profile: 100, chroma: 1, bitDepth: 7, wMBs: 20, hMapUnits: 15})},
		{"POC type 3", buildSPS(spsFields{profile: 66, pocType: 3, wMBs: 20, hMapUnits: 15})},
		{"width too large", buildSPS(spsFields{profile: 66, wMBs: maxMBs + 1, hMapUnits: 15})},
		{"cropped to nothing", buildSPS(spsFields{profile: 66, wMBs: 1, hMapUnits: 1, crop: [4]uint32{4, 4, 0, 0}})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if s, err := ParseSPS(tt.nalu); err == nil {
				t.Fatalf("ParseSPS succeeded: %+v", s)
			}
		})
	}
	if _, err := ParseSPS(buildSPS(spsFields{profile: 66, wMBs: 1, hMapUnits: 1, crop: [4]uint32{4, 4, 0, 0}})); !errors.Is(err, errSPSCrop) {
		t.Fatalf("crop error %v does not wrap errSPSCrop", err)
	}
}

func FuzzParseSPS(f *testing.F) {
	f.Add(buildSPS(spsFields{profile: 66, wMBs: 20, hMapUnits: 15}))
	f.Add(buildSPS(spsFields{profile: 100, chroma: 1, scalingLists: true, wMBs: 120, hMapUnits: 68,
		crop: [4]uint32{0, 0, 0, 4}, vui: true, hrd: true, reorder: u32(1)}))
	f.Add(buildSPS(spsFields{profile: 244, chroma: 3, pocType: 1, wMBs: 20, hMapUnits: 15, fieldCoding: true}))
	f.Fuzz(func(t *testing.T, nalu []byte) {
		s, err := ParseSPS(nalu)
		if err != nil {
			return
		}
		if s.Width <= 0 || s.Height <= 0 || s.Width > maxMBs*16 || s.Height > maxMBs*32 {
			t.Fatalf("implausible size %dx%d", s.Width, s.Height)
		}
		if s.ChromaFormatIDC > 3 || s.BitDepthLuma < 8 || s.BitDepthLuma > 14 {
			t.Fatalf("implausible SPS %+v", s)
		}
	})
}
