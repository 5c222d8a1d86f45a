package av1

// av1CHeaderLen is the fixed part of AV1CodecConfigurationRecord.
const av1CHeaderLen = 4

// ConfigRecord builds the AV1CodecConfigurationRecord (av1C, AV1-ISOBMFF
// §2.3.3) for a sequence header OBU: marker and version 1, the profile,
// level, tier and color fields of operating point 0, no
// initial_presentation_delay, and the sequence header OBU, rewritten with
// an obu_size field, as configOBUs. MP4 stores it in the av1C box and WebM
// as CodecPrivate.
func ConfigRecord(seqHeaderOBU []byte) ([]byte, error) {
	o, err := parseOBU(seqHeaderOBU)
	if err != nil {
		return nil, err
	}
	if o.typ != obuSequenceHeader {
		return nil, ErrBadSequenceHeader
	}
	s, err := parseSequenceHeaderPayload(o.payload)
	if err != nil {
		return nil, err
	}
	rec := make([]byte, av1CHeaderLen, av1CHeaderLen+len(seqHeaderOBU)+maxLEB128Bytes)
	rec[0] = 0x81 // marker 1, version 1
	rec[1] = s.Profile<<5 | s.LevelIdx&0x1f
	c := s.Color
	rec[2] = s.Tier<<7 | b2u(c.HighBitdepth)<<6 | b2u(c.TwelveBit)<<5 | b2u(c.MonoChrome)<<4 |
		b2u(c.SubsamplingX)<<3 | b2u(c.SubsamplingY)<<2 | c.ChromaSamplePosition&0x03
	rec[3] = 0 // no initial_presentation_delay
	return appendOBU(rec, o), nil
}

func b2u(b bool) byte {
	if b {
		return 1
	}
	return 0
}
