// Package nal builds an access unit of 4-byte length-prefixed NAL units
// from the payload structures that the RTP formats of H.264 (RFC 6184) and
// H.265 (RFC 7798) share: single NAL unit packets, aggregation packets of
// 16-bit size-prefixed units, and fragmentation units. The formats differ
// in their header layouts, which the codec packages decode; this package
// does the reassembly both need.
package nal

import "errors"

// Errors reported while reassembling; a codec package's own errors (such
// as Format.ErrTruncated) are reported as they are.
var (
	// ErrEmpty reports an empty payload or NAL unit.
	ErrEmpty = errors.New("empty payload or NAL unit")
	// ErrFUNoStart reports a fragment that continues no started NAL unit
	// (or one of another type).
	ErrFUNoStart = errors.New("fragmentation unit without a start")
	// ErrFUInterrupted reports a fragmented NAL unit followed by something
	// other than its next fragment.
	ErrFUInterrupted = errors.New("fragmented NAL unit not finished")
)

// Format is what the Builder needs to know of a payload format.
type Format struct {
	// HeaderLen is the size of a NAL unit header: 1 for H.264, 2 for
	// H.265. An aggregated NAL unit shorter than that is truncated.
	HeaderLen int
	// ErrTruncated is the format's error for a truncated packet.
	ErrTruncated error
}

// Inspect checks a complete NAL unit (at least Format.HeaderLen bytes
// long) and reports whether it belongs in the access unit; an error fails
// the packet.
type Inspect func(n []byte) (keep bool, err error)

// Fragment is one fragmentation unit, its headers decoded by the caller.
type Fragment struct {
	Type       byte // type of the fragmented NAL unit
	Start, End bool
	// Header is the NAL unit header to rebuild from a start fragment; its
	// first Format.HeaderLen bytes are used.
	Header [2]byte
	Data   []byte // the fragment's payload after its headers
}

// Builder appends the NAL units of one access unit to a buffer, each after
// a 4-byte big-endian length. It is not safe for concurrent use.
type Builder struct {
	dst     []byte
	format  Format
	fuStart int // offset in dst of the length prefix of an unfinished fragmented unit, or -1
	fuType  byte
}

// NewBuilder returns a Builder that appends to dst.
func NewBuilder(dst []byte, format Format) Builder {
	return Builder{dst: dst, format: format, fuStart: -1}
}

// Bytes returns dst with the NAL units appended so far.
func (b *Builder) Bytes() []byte { return b.dst }

// Fragmenting reports whether a fragmented NAL unit is unfinished.
func (b *Builder) Fragmenting() bool { return b.fuStart >= 0 }

// AppendUnit appends the complete NAL unit n if inspect keeps it.
func (b *Builder) AppendUnit(n []byte, inspect Inspect) error {
	keep, err := inspect(n)
	if err != nil || !keep {
		return err
	}
	b.dst = append(b.dst, 0, 0, 0, 0)
	putLength(b.dst[len(b.dst)-4:], len(n))
	b.dst = append(b.dst, n...)
	return nil
}

// AppendAggregated appends the NAL units of an aggregation packet's
// payload after its header: units of a 2-byte size and a NAL unit, as
// STAP-A and, without DONL fields, H.265's AP carry them.
func (b *Builder) AppendAggregated(units []byte, inspect Inspect) error {
	if len(units) == 0 {
		return b.format.ErrTruncated
	}
	for len(units) > 0 {
		if len(units) < 2 {
			return b.format.ErrTruncated
		}
		size := int(units[0])<<8 | int(units[1])
		units = units[2:]
		if size == 0 {
			return ErrEmpty
		}
		if size < b.format.HeaderLen || size > len(units) {
			return b.format.ErrTruncated
		}
		if err := b.AppendUnit(units[:size], inspect); err != nil {
			return err
		}
		units = units[size:]
	}
	return nil
}

// AppendFragment adds fu to the NAL unit being rebuilt, appending the
// unit when fu ends it and inspect keeps it.
func (b *Builder) AppendFragment(fu Fragment, inspect Inspect) error {
	if fu.Start {
		if b.fuStart >= 0 {
			return ErrFUInterrupted
		}
		b.fuStart, b.fuType = len(b.dst), fu.Type
		// A start fragment may also carry the end bit; both RFCs forbid
		// it but the NAL unit is complete, so it is accepted.
		b.dst = append(b.dst, 0, 0, 0, 0)
		b.dst = append(b.dst, fu.Header[:b.format.HeaderLen]...)
	} else if b.fuStart < 0 || b.fuType != fu.Type {
		return ErrFUNoStart
	}
	b.dst = append(b.dst, fu.Data...)
	if !fu.End {
		return nil
	}
	at := b.fuStart
	b.fuStart = -1
	keep, err := inspect(b.dst[at+4:])
	if err != nil || !keep {
		b.dst = b.dst[:at]
		return err
	}
	putLength(b.dst[at:], len(b.dst)-at-4)
	return nil
}

func putLength(b []byte, n int) {
	b[0], b[1], b[2], b[3] = byte(n>>24), byte(n>>16), byte(n>>8), byte(n)
}
