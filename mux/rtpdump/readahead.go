package rtpdump

import "io"

// readAhead is the Reader's read-ahead buffer: records are looked at in
// place (peek) and then skipped (discard), one bounds check for the usual
// record that is already buffered. It is bufio.Reader's Peek and Discard
// reduced to what the Reader needs: three method calls with their own
// checks per packet were a noticeable part of reading a long capture.
type readAhead struct {
	src io.Reader
	buf []byte // buf[off:] is buffered and not yet consumed
	off int
	err error // the source's error, returned once the buffer is drained
}

// reset drops what is buffered and reads from src from now on.
func (b *readAhead) reset(src io.Reader) {
	*b = readAhead{src: src, buf: b.buf[:0]}
}

// peek returns the next n bytes without consuming them, valid until the
// next call. n must not exceed the buffer's capacity. Fewer bytes than n
// come with the source's error (io.EOF at its end).
func (b *readAhead) peek(n int) ([]byte, error) {
	if len(b.buf)-b.off >= n {
		return b.buf[b.off : b.off+n], nil
	}
	b.fill(n)
	if avail := len(b.buf) - b.off; avail < n {
		return b.buf[b.off:], b.err
	}
	return b.buf[b.off : b.off+n], nil
}

// discard consumes n bytes that peek returned.
func (b *readAhead) discard(n int) {
	b.off += n
}

// fill reads until n bytes are buffered or the source fails, first moving
// the unconsumed tail to the front of the buffer.
func (b *readAhead) fill(n int) {
	if b.off > 0 {
		b.buf = b.buf[:copy(b.buf, b.buf[b.off:])]
		b.off = 0
	}
	for len(b.buf) < n && b.err == nil {
		m, err := b.src.Read(b.buf[len(b.buf):cap(b.buf)])
		b.buf = b.buf[:len(b.buf)+m]
		if err != nil {
			b.err = err
		} else if m == 0 {
			b.err = io.ErrNoProgress
		}
	}
}

// readByte consumes one byte.
func (b *readAhead) readByte() (byte, error) {
	p, err := b.peek(1)
	if len(p) < 1 {
		return 0, err
	}
	b.discard(1)
	return p[0], nil
}

// readFull consumes len(p) bytes into p; a short read is
// io.ErrUnexpectedEOF, as with io.ReadFull.
func (b *readAhead) readFull(p []byte) error {
	q, err := b.peek(len(p))
	if len(q) < len(p) {
		if err == io.EOF && len(q) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	copy(p, q)
	b.discard(len(p))
	return nil
}
