package webm

// Cues and Cluster headers are encoded here by hand rather than with
// ebml.Marshal, whose reflection allocated ~1.8 KB per cue point: the
// Cues of a 60-minute file cost 3 MB of garbage at finish, and every
// Cluster header a few allocations. The bytes are the ones ebml-go writes
// (TestHandEncodingMatchesEBMLGo).

// IDs of the elements encoded here.
const (
	idCuePoint          = 0xBB
	idCueTime           = 0xB3
	idCueTrackPositions = 0xB7
	idCueTrack          = 0xF7
	idCueClusterPos     = 0xF1
)

// uintLen is the bytes of an EBML unsigned integer element's data: the
// shortest big-endian form, one byte for zero.
func uintLen(v uint64) int {
	n := 1
	for v > 0xFF {
		v >>= 8
		n++
	}
	return n
}

// appendUint appends an unsigned integer element with a 1-byte ID.
func appendUint(b []byte, id byte, v uint64) []byte {
	n := uintLen(v)
	b = appendSize(append(b, id), uint64(n), 1)
	for i := n - 1; i >= 0; i-- {
		b = append(b, byte(v>>(8*i)))
	}
	return b
}

// uintElemLen is the length of appendUint's element for v.
func uintElemLen(v uint64) int {
	n := uintLen(v)
	return 1 + sizeLen(uint64(n)) + n
}

// sizeLen is the length of appendSize's shortest encoding of v.
func sizeLen(v uint64) int {
	n := 1
	for n < size8Len && v >= (uint64(1)<<(7*n))-1 {
		n++
	}
	return n
}

// appendCuePoint appends one CuePoint: its time, and the track and cluster
// position of its one CueTrackPositions.
func appendCuePoint(b []byte, p cuePoint) []byte {
	pos := uint64(uintElemLen(uint64(p.track)) + uintElemLen(p.pos))
	point := uint64(uintElemLen(p.time)) + 1 + uint64(sizeLen(pos)) + pos
	b = appendSize(append(b, idCuePoint), point, 1)
	b = appendUint(b, idCueTime, p.time)
	b = appendSize(append(b, idCueTrackPositions), pos, 1)
	b = appendUint(b, idCueTrack, uint64(p.track))
	return appendUint(b, idCueClusterPos, p.pos)
}

// encodeCues builds the Cues element.
func encodeCues(points []cuePoint) []byte {
	body := make([]byte, 0, len(points)*24)
	for _, p := range points {
		body = appendCuePoint(body, p)
	}
	out := appendSize(append(make([]byte, 0, len(body)+12), idBytes(idCues)...), uint64(len(body)), 1)
	return append(out, body...)
}

// appendClusterHeader appends a Cluster header of unknown size (8 bytes,
// patched by endCluster) and its Timecode.
func appendClusterHeader(b []byte, timecode uint64) []byte {
	b = append(b, idBytes(idCluster)...)
	b = append(b, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF)
	return appendUint(b, idTimecode, timecode)
}
