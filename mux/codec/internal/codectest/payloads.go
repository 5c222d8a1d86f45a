package codectest

import "encoding/binary"

// JoinPayloads encodes RTP payloads for a fuzzer: each one prefixed with a
// 2-byte length. SplitPayloads is its inverse.
func JoinPayloads(payloads [][]byte) []byte {
	var out []byte
	for _, p := range payloads {
		out = binary.BigEndian.AppendUint16(out, uint16(len(p)))
		out = append(out, p...)
	}
	return out
}

// SplitPayloads decodes what JoinPayloads encodes from any bytes: a length
// longer than what follows takes the rest, and trailing bytes that do not
// fill a length become the last payload.
func SplitPayloads(b []byte) [][]byte {
	var out [][]byte
	for len(b) >= 2 {
		n := int(binary.BigEndian.Uint16(b))
		b = b[2:]
		n = min(n, len(b))
		out = append(out, b[:n])
		b = b[n:]
	}
	if len(b) > 0 {
		out = append(out, b)
	}
	return out
}
