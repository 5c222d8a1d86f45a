package mp4

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Boxes are walked here by hand rather than with go-mp4's reader, which
// allocated several times per box header and per field: reading the
// fragments back was the largest part of Close (BenchmarkWholeFile).

// boxHead is a box's type and sizes.
type boxHead struct {
	typ  boxType
	size uint64 // the whole box
	hdr  uint64 // header bytes: 8, or 16 with a 64-bit size
}

// parseBoxHead reads the box header at the start of b for a box that may
// span at most avail bytes. A size of 0 (to the end of the file) is refused:
// this package never writes one.
func parseBoxHead(b []byte, avail uint64) (boxHead, error) {
	if len(b) < smallHeaderSize {
		return boxHead{}, errors.New("box header: too short")
	}
	h := boxHead{size: uint64(binary.BigEndian.Uint32(b)), hdr: smallHeaderSize}
	h.typ = boxType(binary.BigEndian.Uint32(b[4:8]))
	if h.size == 1 {
		if len(b) < largeHeaderSize {
			return boxHead{}, fmt.Errorf("box %s: 64-bit size cut short", h.typ)
		}
		h.size, h.hdr = binary.BigEndian.Uint64(b[8:]), largeHeaderSize
	}
	if h.size < h.hdr || h.size > avail {
		return boxHead{}, fmt.Errorf("box %s: size %d does not fit %d bytes", h.typ, h.size, avail)
	}
	return h, nil
}

// eachBox calls fn with every box that b, a container's payload, holds.
func eachBox(b []byte, fn func(h boxHead, payload []byte) error) error {
	for len(b) > 0 {
		h, err := parseBoxHead(b, uint64(len(b)))
		if err != nil {
			return err
		}
		if err := fn(h, b[h.hdr:h.size]); err != nil {
			return err
		}
		b = b[h.size:]
	}
	return nil
}

// boxInfo is the header of a box at offset off of the file.
type boxInfo struct {
	off int64
	boxHead
}

// readHeader reads the header of the box at off and checks that the whole
// box lies inside the file.
func readHeader(sr *io.SectionReader, off int64) (boxInfo, error) {
	if off < 0 || off >= sr.Size() {
		return boxInfo{}, fmt.Errorf("box header at %d: outside the file of %d bytes", off, sr.Size())
	}
	var buf [largeHeaderSize]byte
	n, err := sr.ReadAt(buf[:], off)
	if n < len(buf) && !errors.Is(err, io.EOF) {
		return boxInfo{}, fmt.Errorf("box header at %d: %w", off, err)
	}
	h, err := parseBoxHead(buf[:n], uint64(sr.Size()-off))
	if err != nil {
		return boxInfo{}, fmt.Errorf("box at %d: %w", off, err)
	}
	return boxInfo{off: off, boxHead: h}, nil
}
