package rtpdump

import (
	"encoding/binary"
	"fmt"
	"io"
	"strconv"
	"time"
)

// Writer writes packets in rtpdump format. Each WritePacket issues two writes
// to the underlying writer, so callers writing files should hand it a
// buffered writer. A Writer is not safe for concurrent use.
type Writer struct {
	dst io.Writer
	rec [recordHeaderLen]byte
}

// NewWriter writes the text line and binary header for h to w and returns a
// Writer for the packets. h.Source must be an IPv4 address; Start must lie
// within the u32 seconds range of the format.
func NewWriter(w io.Writer, h Header) (*Writer, error) {
	if !h.Source.Is4() {
		return nil, fmt.Errorf("rtpdump: write header: source %v is not IPv4", h.Source)
	}
	sec := h.Start.Unix()
	if sec < 0 || sec > 1<<32-1 {
		return nil, fmt.Errorf("rtpdump: write header: start %v outside the format's range", h.Start)
	}
	line := magic + h.Source.String() + "/" + strconv.Itoa(int(h.Port)) + "\n"
	var b [fileHeaderLen]byte
	binary.BigEndian.PutUint32(b[0:4], uint32(sec))
	binary.BigEndian.PutUint32(b[4:8], uint32(h.Start.Nanosecond()/int(time.Microsecond)))
	a := h.Source.As4()
	copy(b[8:12], a[:])
	binary.BigEndian.PutUint16(b[12:14], h.Port)
	if _, err := io.WriteString(w, line); err != nil {
		return nil, fmt.Errorf("rtpdump: write text line: %w", err)
	}
	if _, err := w.Write(b[:]); err != nil {
		return nil, fmt.Errorf("rtpdump: write binary header: %w", err)
	}
	return &Writer{dst: w}, nil
}

// WritePacket appends one record. The offset is stored in whole
// milliseconds (truncated); it must be in [0, 2^32) ms and the data at most
// MaxPacketSize bytes. An RTCP packet is stored with plen 0.
func (w *Writer) WritePacket(p Packet) error {
	if len(p.Data) > MaxPacketSize {
		return fmt.Errorf("rtpdump: write packet at %v: %d bytes exceed %d", p.Offset, len(p.Data), MaxPacketSize)
	}
	if p.Offset < 0 || p.Offset > maxOffset {
		return fmt.Errorf("rtpdump: write packet: offset %v outside [0, %v]", p.Offset, maxOffset)
	}
	if !p.RTCP && len(p.Data) == 0 {
		return fmt.Errorf("rtpdump: write packet at %v: empty RTP packet cannot be told from RTCP", p.Offset)
	}
	plen := len(p.Data)
	if p.RTCP {
		plen = 0
	}
	binary.BigEndian.PutUint16(w.rec[0:2], uint16(recordHeaderLen+len(p.Data)))
	binary.BigEndian.PutUint16(w.rec[2:4], uint16(plen))
	binary.BigEndian.PutUint32(w.rec[4:8], uint32(p.Offset/time.Millisecond))
	if _, err := w.dst.Write(w.rec[:]); err != nil {
		return fmt.Errorf("rtpdump: write record header: %w", err)
	}
	if _, err := w.dst.Write(p.Data); err != nil {
		return fmt.Errorf("rtpdump: write packet data: %w", err)
	}
	return nil
}
