package h265

import (
	"errors"
	"fmt"
)

const maxParamSetLen = 0xffff

var (
	errRecordCount  = errors.New("parameter set count out of range")
	errRecordLength = errors.New("parameter set empty or longer than 65535 bytes")
	errRecordType   = errors.New("NAL unit of the wrong type")
)

// ConfigRecord builds an HEVCDecoderConfigurationRecord (hvcC, ISO/IEC
// 14496-15 §8.3.3.1) with 4-byte NAL unit lengths from VPS, SPS and PPS
// NAL units as carried in RTP (header included, emulation prevention in
// place). The profile, tier, level, chroma format, bit depths and temporal
// layering come from the first SPS. The record claims no spatial
// segmentation, parallelism or frame rate, and marks each array complete:
// kiroku strips parameter sets from the samples, as hvc1 requires.
func ConfigRecord(vps, sps, pps [][]byte) ([]byte, error) {
	if len(vps) == 0 || len(vps) > maxVPSID+1 || len(sps) == 0 || len(sps) > maxSPSID+1 ||
		len(pps) == 0 || len(pps) > maxPPSID+1 {
		return nil, fmt.Errorf("h265: build hvcC with %d VPS, %d SPS and %d PPS: %w",
			len(vps), len(sps), len(pps), errRecordCount)
	}
	s, err := ParseSPS(sps[0])
	if err != nil {
		return nil, fmt.Errorf("h265: build hvcC: %w", err)
	}
	arrays := []struct {
		typ  byte
		sets [][]byte
	}{{naluVPS, vps}, {naluSPS, sps}, {naluPPS, pps}}
	size := 23
	for _, a := range arrays {
		size += 3
		for _, p := range a.sets {
			if len(p) < 2 || len(p) > maxParamSetLen {
				return nil, fmt.Errorf("h265: build hvcC: %w", errRecordLength)
			}
			if nalType(p) != a.typ {
				return nil, fmt.Errorf("h265: build hvcC: type %d in the array of type %d: %w",
					nalType(p), a.typ, errRecordType)
			}
			size += 2 + len(p)
		}
	}
	rec := appendRecordHeader(make([]byte, 0, size), &s)
	rec = append(rec, byte(len(arrays)))
	for _, a := range arrays {
		rec = append(rec, 0x80|a.typ, byte(len(a.sets)>>8), byte(len(a.sets))) // array_completeness = 1
		for _, p := range a.sets {
			rec = append(rec, byte(len(p)>>8), byte(len(p)))
			rec = append(rec, p...)
		}
	}
	return rec, nil
}

// appendRecordHeader appends the 22 bytes of hvcC before numOfArrays.
func appendRecordHeader(rec []byte, s *SPS) []byte {
	p := s.PTL
	c := p.CompatibilityFlags
	nested := byte(0)
	if s.TemporalIDNesting {
		nested = 1
	}
	rec = append(rec,
		1, // configurationVersion
		p.ProfileSpace<<6|p.Tier<<5|p.ProfileIDC,
		byte(c>>24), byte(c>>16), byte(c>>8), byte(c))
	for shift := 40; shift >= 0; shift -= 8 {
		rec = append(rec, byte(p.ConstraintFlags>>shift))
	}
	return append(rec,
		p.LevelIDC,
		0xf0, 0x00, // reserved, min_spatial_segmentation_idc = 0
		0xfc,                   // reserved, parallelismType = 0
		0xfc|s.ChromaFormatIDC, // reserved, chromaFormat
		0xf8|(s.BitDepthLuma-8),
		0xf8|(s.BitDepthChroma-8),
		0, 0, // avgFrameRate
		// constantFrameRate = 0, numTemporalLayers, temporalIdNested,
		// lengthSizeMinusOne = 3
		s.MaxSubLayers<<3|nested<<2|3)
}
