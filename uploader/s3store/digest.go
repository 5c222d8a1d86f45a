package s3store

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"hash"
	"io"
	"strconv"
)

// maxParts is S3's limit on the parts of one upload; the transfer manager
// grows the part size to stay under it, and so does Digest.
const maxParts = 10000

// Sum is what the local file's bytes must hash to in the store.
type Sum struct {
	Size int64
	// SHA256 is the base64 SHA-256 of the whole file, as a single PUT's
	// checksum reads.
	SHA256 string
	// Composite is the base64 SHA-256 of the parts' SHA-256 digests plus
	// "-<parts>", as a multipart object's checksum reads; empty when the
	// file goes in one PUT.
	Composite string
}

// Expected is the checksum the store reports for the object.
func (s Sum) Expected() string {
	if s.Composite != "" {
		return s.Composite
	}
	return s.SHA256
}

// Digest hashes the first size bytes of r as they will be uploaded with the
// given part size, reading with a small fixed buffer.
func Digest(r io.ReaderAt, size, partSize int64) (Sum, error) {
	if size/partSize >= maxParts {
		partSize = size/maxParts + 1
	}
	whole := sha256.New()
	var part, parts hash.Hash
	multipart := size > partSize
	if multipart {
		part, parts = sha256.New(), sha256.New()
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
	sum := Sum{Size: size, SHA256: base64.StdEncoding.EncodeToString(whole.Sum(nil))}
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
