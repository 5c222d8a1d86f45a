package rtpdump

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"time"
)

// readBufferSize is the size of the read-ahead buffer between the reader
// and its source. It holds any whole record (at most 64 KiB), so that a
// packet's bytes are handed out in place, never copied again, and records
// are small, so it saves a system call per packet.
const readBufferSize = 128 << 10

// Reader reads packets from an rtpdump stream one at a time. Packets are
// returned in place in its read-ahead buffer, so reading does not allocate
// or copy. A Reader is not safe for concurrent use.
type Reader struct {
	src    readAhead
	header Header
	addr   string
	err    error // sticky: once reading fails, every later Next fails alike
}

// NewReader reads the text line and binary header from r and returns a
// Reader positioned at the first packet.
func NewReader(r io.Reader) (*Reader, error) {
	rd := &Reader{src: readAhead{src: r, buf: make([]byte, 0, readBufferSize)}}
	if err := rd.readPreamble(); err != nil {
		return nil, fmt.Errorf("rtpdump: read header: %w", err)
	}
	return rd, nil
}

// Header returns the capture's binary file header.
func (r *Reader) Header() Header { return r.header }

// Address returns the "ADDRESS/PORT" text of the file's first line.
func (r *Reader) Address() string { return r.addr }

// Next returns the next packet. Its Data is valid until the next call. At the
// end of the file Next returns io.EOF; a record cut short returns an error
// wrapping io.ErrUnexpectedEOF; a record whose fields are inconsistent
// returns an error wrapping ErrFormat. After an error, every later call
// returns the same error.
func (r *Reader) Next() (Packet, error) {
	if r.err != nil {
		return Packet{}, r.err
	}
	p, err := r.next()
	if err != nil {
		r.err = err
	}
	return p, err
}

func (r *Reader) next() (Packet, error) {
	rec, err := r.src.peek(recordHeaderLen)
	if err != nil {
		if errors.Is(err, io.EOF) && len(rec) == 0 {
			return Packet{}, io.EOF
		}
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return Packet{}, fmt.Errorf("rtpdump: read record header: %w", err)
	}
	length := int(binary.BigEndian.Uint16(rec[0:2]))
	plen := int(binary.BigEndian.Uint16(rec[2:4]))
	offset := time.Duration(binary.BigEndian.Uint32(rec[4:8])) * time.Millisecond
	if length < recordHeaderLen {
		return Packet{}, fmt.Errorf("rtpdump: record at %v: length %d shorter than its header: %w", offset, length, ErrFormat)
	}
	n := length - recordHeaderLen
	if plen != 0 && plen < n {
		return Packet{}, fmt.Errorf("rtpdump: record at %v: %d bytes stored for a %d-byte packet: %w", offset, n, plen, ErrFormat)
	}
	whole, err := r.src.peek(length)
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return Packet{}, fmt.Errorf("rtpdump: read %d-byte packet at %v: %w", n, offset, err)
	}
	r.src.discard(length)
	return Packet{Offset: offset, Data: whole[recordHeaderLen:length:length], RTCP: plen == 0}, nil
}

// readPreamble parses "#!rtpplay1.0 ADDRESS/PORT\n" and the binary header.
func (r *Reader) readPreamble() error {
	line, err := r.readLine()
	if err != nil {
		return err
	}
	rest, ok := bytes.CutPrefix(line, []byte(magic))
	if !ok {
		return fmt.Errorf("first line does not start with %q: %w", magic, ErrFormat)
	}
	if err := checkAddress(rest); err != nil {
		return err
	}
	r.addr = string(rest)
	var h [fileHeaderLen]byte
	if err := r.src.readFull(h[:]); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("binary header: %w", err)
	}
	sec := binary.BigEndian.Uint32(h[0:4])
	usec := binary.BigEndian.Uint32(h[4:8])
	if usec >= 1e6 {
		return fmt.Errorf("binary header: %d microseconds: %w", usec, ErrFormat)
	}
	r.header = Header{
		Start:  time.Unix(int64(sec), int64(usec)*int64(time.Microsecond)).UTC(),
		Source: netip.AddrFrom4([4]byte(h[8:12])),
		Port:   binary.BigEndian.Uint16(h[12:14]),
	}
	return nil
}

// readLine reads the text line without its newline, reading at most
// maxLineLen bytes.
func (r *Reader) readLine() ([]byte, error) {
	var line []byte
	for len(line) < maxLineLen {
		c, err := r.src.readByte()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, fmt.Errorf("text line: %w", err)
		}
		if c == '\n' {
			return line, nil
		}
		line = append(line, c)
	}
	return nil, fmt.Errorf("text line longer than %d bytes: %w", maxLineLen, ErrFormat)
}

// checkAddress checks the "ADDRESS/PORT" part of the text line.
func checkAddress(b []byte) error {
	addr, port, ok := bytes.Cut(b, []byte("/"))
	if !ok || len(addr) == 0 {
		return fmt.Errorf("text line address %q is not ADDRESS/PORT: %w", b, ErrFormat)
	}
	if _, err := strconv.ParseUint(string(port), 10, 16); err != nil {
		return fmt.Errorf("text line port %q: %w", port, ErrFormat)
	}
	return nil
}
