package s3store

import (
	"encoding/base64"
	"fmt"
	"hash"
	"io"
	"strconv"
)

// maxParts is S3's limit on the parts of one upload; the transfer manager
// grows the part size to stay under it, and so does Digest.
const maxParts = 10000

// Sum is what the local file's bytes must hash to in the store, with one
// checksum algorithm.
type Sum struct {
	Size int64
	// Full is the base64 checksum of the whole file, as a single PUT's
	// checksum reads.
	Full string
	// Composite is the base64 checksum of the parts' checksums plus
	// "-<parts>", as a multipart object's checksum reads; empty when the
	// file goes in one PUT.
	Composite string
}

// Expected is the checksum the store reports for the object.
func (s Sum) Expected() string {
	if s.Composite != "" {
		return s.Composite
	}
	return s.Full
}

// Digest hashes the first size bytes of r with newHash as they will be
// uploaded with the given part size, reading with a small fixed buffer.
func Digest(r io.ReaderAt, size, partSize int64, newHash func() hash.Hash) (Sum, error) {
	if size/partSize >= maxParts {
		partSize = size/maxParts + 1
	}
	whole := newHash()
	var part, parts hash.Hash
	multipart := size > partSize
	if multipart {
		part, parts = newHash(), newHash()
	}
	buf := make([]byte, 256<<10)
	var off, inPart int64
	n := 0
	for off < size {
		want := min(int64(len(buf)), size-off)
		if multipart {
			want = min(want, partSize-inPart)
		}
		got, err := r.ReadAt(buf[:want], off)
		if int64(got) < want {
			return Sum{}, fmt.Errorf("digest at %d of %d bytes: %w", off+int64(got), size, shortRead(err))
		}
		whole.Write(buf[:got])
		off += int64(got)
		if !multipart {
			continue
		}
		part.Write(buf[:got])
		if inPart += int64(got); inPart == partSize || off == size {
			parts.Write(part.Sum(nil))
			part.Reset()
			inPart = 0
			n++
		}
	}
	sum := Sum{Size: size, Full: base64.StdEncoding.EncodeToString(whole.Sum(nil))}
	if multipart {
		sum.Composite = base64.StdEncoding.EncodeToString(parts.Sum(nil)) + "-" + strconv.Itoa(n)
	}
	return sum, nil
}

func shortRead(err error) error {
	if err == nil || err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
