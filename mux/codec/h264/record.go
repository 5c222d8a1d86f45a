package h264

import (
	"errors"
	"fmt"
)

// Limits of the avcC record's count and length fields.
const (
	maxRecordSPS   = 31  // numOfSequenceParameterSets is 5 bits
	maxRecordPPS   = 255 // numOfPictureParameterSets is 8 bits
	maxParamSetLen = 0xffff
)

var (
	errRecordCount  = errors.New("parameter set count out of range")
	errRecordLength = errors.New("parameter set empty or longer than 65535 bytes")
)

// ConfigRecord builds an AVCDecoderConfigurationRecord (avcC, ISO/IEC
// 14496-15 §5.3.3.1) with 4-byte NAL unit lengths from SPS and PPS NAL
// units as carried in RTP (header byte included, emulation prevention in
// place). Profile, compatibility and level come from the first SPS. For
// profiles other than Baseline, Main and Extended the record carries the
// extension: chroma format, bit depths and no SPS extensions.
func ConfigRecord(sps, pps [][]byte) ([]byte, error) {
	if len(sps) == 0 || len(sps) > maxRecordSPS || len(pps) == 0 || len(pps) > maxRecordPPS {
		return nil, fmt.Errorf("h264: build avcC with %d SPS and %d PPS: %w", len(sps), len(pps), errRecordCount)
	}
	first, err := ParseSPS(sps[0])
	if err != nil {
		return nil, fmt.Errorf("h264: build avcC: %w", err)
	}
	size := 7 + 4
	for _, sets := range [][][]byte{sps, pps} {
		for _, p := range sets {
			if len(p) == 0 || len(p) > maxParamSetLen {
				return nil, fmt.Errorf("h264: build avcC: %w", errRecordLength)
			}
			size += 2 + len(p)
		}
	}
	rec := make([]byte, 0, size)
	rec = append(rec,
		1, // configurationVersion
		first.ProfileIDC, first.ConstraintFlags, first.LevelIDC,
		0xfc|3, // reserved 6 bits, lengthSizeMinusOne
		0xe0|byte(len(sps)))
	rec = appendParamSets(rec, sps)
	rec = append(rec, byte(len(pps)))
	rec = appendParamSets(rec, pps)
	if hasRecordExtension(first.ProfileIDC) {
		rec = append(rec,
			0xfc|first.ChromaFormatIDC,
			0xf8|(first.BitDepthLuma-8),
			0xf8|(first.BitDepthChroma-8),
			0) // numOfSequenceParameterSetExt
	}
	return rec, nil
}

// hasRecordExtension reports whether avcC carries the chroma and bit depth
// fields for this profile_idc.
func hasRecordExtension(profile uint8) bool {
	return profile != 66 && profile != 77 && profile != 88
}

func appendParamSets(rec []byte, sets [][]byte) []byte {
	for _, p := range sets {
		rec = append(rec, byte(len(p)>>8), byte(len(p)))
		rec = append(rec, p...)
	}
	return rec
}
