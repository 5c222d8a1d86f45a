package sfu

import (
	"crypto/rand"
	"encoding/base32"
)

// clockwork is the Clockwork Base32 alphabet Sora's ids use.
var clockwork = base32.NewEncoding("0123456789ABCDEFGHJKMNPQRSTVWXYZ").WithPadding(base32.NoPadding)

// NewID returns a random UUIDv4 in Clockwork Base32: 26 characters, the
// shape of Sora's connection_id and session_id.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return clockwork.EncodeToString(b[:])
}
