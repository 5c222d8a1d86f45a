package webm

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// errBadAVCC reports a malformed AVCDecoderConfigurationRecord.
var errBadAVCC = errors.New("webm: malformed avcC record")

// avccParamSets returns the SPS and PPS NAL units of an avcC record
// (ISO/IEC 14496-15 §5.3.3.1) as 4-byte length-prefixed NAL units, the
// framing of mux.Frame data, and checks that the record's NAL length size is
// 4 bytes too.
//
// H.264 resolution or parameter-set changes: the track keeps the avcC of
// the first configuration, and every later keyframe whose configuration
// differs from it carries its own SPS/PPS in-band, prepended to the access
// unit. Chrome and ffmpeg decode such streams, and a seek to any keyframe
// finds the parameter sets it needs.
func avccParamSets(rec []byte) ([]byte, error) {
	if len(rec) < 7 || rec[0] != 1 {
		return nil, errBadAVCC
	}
	if rec[4]&0x03 != 3 {
		return nil, fmt.Errorf("webm: avcC NAL length size %d, want 4: %w", rec[4]&0x03+1, errBadAVCC)
	}
	var out []byte
	rest := rec[5:]
	for _, mask := range []byte{0x1F, 0xFF} { // SPS count, then PPS count
		if len(rest) < 1 {
			return nil, errBadAVCC
		}
		n := int(rest[0] & mask)
		rest = rest[1:]
		for range n {
			if len(rest) < 2 {
				return nil, errBadAVCC
			}
			l := int(binary.BigEndian.Uint16(rest))
			if len(rest) < 2+l || l == 0 {
				return nil, errBadAVCC
			}
			out = binary.BigEndian.AppendUint32(out, uint32(l))
			out = append(out, rest[2:2+l]...)
			rest = rest[2+l:]
		}
	}
	return out, nil
}
