package webm

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Element IDs, with their length-marker bits, as the Matroska specification
// spells them. ebml-go keeps its ID table private, and the scanner in
// scan.go compares raw header bytes, so the few IDs it needs live here.
const (
	idEBML        = 0x1A45DFA3
	idSegment     = 0x18538067
	idSeekHead    = 0x114D9B74
	idInfo        = 0x1549A966
	idTracks      = 0x1654AE6B
	idCluster     = 0x1F43B675
	idCues        = 0x1C53BB6B
	idVoid        = 0xEC
	idTimecode    = 0xE7
	idSimpleBlock = 0xA3
	idDuration    = 0x4489
	idTimescale   = 0x2AD7B1
)

// sizeUnknown is the 8-byte "unknown size" marker. The Segment and every
// Cluster are written with it and patched to their real size in place.
const sizeUnknown = 0x00FFFFFFFFFFFFFF

// size8Len is the length of the reserved size fields the writer patches.
const size8Len = 8

// errTruncated reports an element header cut off by the end of the file.
var errTruncated = errors.New("webm: element header truncated")

// errBadHeader reports bytes that are not a valid element header.
var errBadHeader = errors.New("webm: invalid element header")

// idBytes returns the big-endian bytes of an element ID (1 to 4 bytes).
func idBytes(id uint32) []byte {
	switch {
	case id > 0xFFFFFF:
		return []byte{byte(id >> 24), byte(id >> 16), byte(id >> 8), byte(id)}
	case id > 0xFFFF:
		return []byte{byte(id >> 16), byte(id >> 8), byte(id)}
	case id > 0xFF:
		return []byte{byte(id >> 8), byte(id)}
	}
	return []byte{byte(id)}
}

// putSize8 writes v as an 8-byte EBML data size. ebml-go chooses size
// lengths itself; patching a reserved field in place needs a fixed length.
func putSize8(b []byte, v uint64) {
	binary.BigEndian.PutUint64(b, v)
	b[0] = 0x01
}

// appendSize appends v as the shortest EBML data size of at least minLen
// bytes (1..8). The all-ones pattern of each length means "unknown", so a
// value equal to it takes one more byte.
func appendSize(b []byte, v uint64, minLen int) []byte {
	n := max(minLen, 1)
	for n < size8Len && v >= (uint64(1)<<(7*n))-1 {
		n++
	}
	for i := n - 1; i >= 0; i-- {
		c := byte(v >> (8 * i))
		if i == n-1 {
			c |= 0x80 >> (n - 1)
		}
		b = append(b, c)
	}
	return b
}

// header is a parsed element header.
type header struct {
	id      uint32
	size    uint64 // sizeUnknown when the size is the unknown marker
	hdrLen  int
	unknown bool
}

// parseHeader decodes an element ID and data size from the start of b.
// It returns errTruncated when b ends inside the header and another error
// when the bytes are not a valid header.
func parseHeader(b []byte) (header, error) {
	if len(b) == 0 {
		return header{}, errTruncated
	}
	idLen := vintLen(b[0])
	if idLen == 0 || idLen > 4 {
		return header{}, fmt.Errorf("%w: ID byte %#x", errBadHeader, b[0])
	}
	if len(b) < idLen+1 {
		return header{}, errTruncated
	}
	var id uint32
	for _, c := range b[:idLen] {
		id = id<<8 | uint32(c)
	}
	sizeLen := vintLen(b[idLen])
	if sizeLen == 0 {
		return header{}, fmt.Errorf("%w: size byte %#x in element %#x", errBadHeader, b[idLen], id)
	}
	if len(b) < idLen+sizeLen {
		return header{}, errTruncated
	}
	size, unknown := decodeSize(b[idLen : idLen+sizeLen])
	return header{id: id, size: size, hdrLen: idLen + sizeLen, unknown: unknown}, nil
}

// vintLen returns the length of the variable-size integer starting with c,
// or 0 for the invalid first byte 0x00.
func vintLen(c byte) int {
	for n := 1; n <= 8; n++ {
		if c&(0x80>>(n-1)) != 0 {
			return n
		}
	}
	return 0
}

// decodeSize decodes an EBML data size and reports the "unknown" marker.
func decodeSize(b []byte) (uint64, bool) {
	v := uint64(b[0] & (0xFF >> len(b)))
	allOnes := v == uint64(0xFF>>len(b))
	for _, c := range b[1:] {
		v = v<<8 | uint64(c)
		allOnes = allOnes && c == 0xFF
	}
	if allOnes {
		return sizeUnknown, true
	}
	return v, false
}

// voidHeader returns the header of a Void element whose header and data
// together fill exactly total bytes; the data bytes themselves are left as
// they are on disk. A 1-byte gap cannot hold a Void.
func voidHeader(total int64) ([]byte, error) {
	switch {
	case total == 0:
		return nil, nil
	case total == 1 || total < 0:
		return nil, fmt.Errorf("webm: cannot fill %d bytes with a Void element", total)
	case total-2 < 0x7F:
		return []byte{idVoid, 0x80 | byte(total-2)}, nil
	}
	b := make([]byte, 1+size8Len)
	b[0] = idVoid
	putSize8(b[1:], uint64(total-1-size8Len))
	return b, nil
}

// fitElement encodes the master element id around payload and pads it with
// a Void so that the result fills exactly region bytes. ebml-go picks the
// shortest size field, which can leave a 1-byte gap no Void can fill, so the
// outer header is written here with a size field one byte longer when needed.
func fitElement(id uint32, payload []byte, region int64) ([]byte, error) {
	idb := idBytes(id)
	for sizeLen := 1; sizeLen <= size8Len; sizeLen++ {
		out := appendSize(append([]byte(nil), idb...), uint64(len(payload)), sizeLen)
		if len(out)-len(idb) != sizeLen {
			continue // the value needs a longer size field
		}
		out = append(out, payload...)
		pad := region - int64(len(out))
		if pad < 0 {
			return nil, fmt.Errorf("webm: element %#x needs %d bytes, only %d reserved", id, len(out), region)
		}
		if pad == 1 {
			continue
		}
		v, err := voidHeader(pad)
		if err != nil {
			return nil, err
		}
		return append(out, v...), nil
	}
	return nil, fmt.Errorf("webm: element %#x cannot fill %d bytes", id, region)
}
