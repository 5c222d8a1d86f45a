package archive

import (
	"crypto/rand"
	"encoding/base32"
)

// idAlphabet is Crockford's Base32 alphabet (no I, L, O, U), in which Sora
// writes its ids; sfu uses the same one for connection and session ids.
const idAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// idEncoding writes 16 bytes as 26 characters, without padding.
var idEncoding = base32.NewEncoding(idAlphabet).WithPadding(base32.NoPadding)

// NewRecordingID returns a random UUIDv4 in Sora's Base32 alphabet: 26
// characters, the shape of Sora's recording_id (and of connection ids).
func NewRecordingID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])  // crypto/rand.Read never fails
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	return idEncoding.EncodeToString(b[:])
}
