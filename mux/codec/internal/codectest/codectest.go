// Package codectest holds what the codec packages' tests share to judge
// the depacketizers: running ffmpeg and reading its IVF, Annex B and MP4
// output, round trips of real encoder output, the table-test, fuzz and
// benchmark harnesses the depacketizers have in common, and the checks
// they make of the output.
package codectest

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// FFmpeg runs ffmpeg with args in dir, failing the test if ffmpeg is not
// installed or fails.
func FFmpeg(t testing.TB, dir string, args ...string) {
	t.Helper()
	bin, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Fatalf("ffmpeg is needed to judge real encoder output (make test installs it): %v", err)
	}
	cmd := exec.Command(bin, append([]string{"-hide_banner", "-v", "error", "-y"}, args...)...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %v: %v\n%s", args, err, out)
	}
}

// Encode makes two seconds of a 30 fps test pattern of size (such as
// "320x240") with the given output options, written to name in a temp
// dir, and returns the file's path and contents.
func Encode(t testing.TB, size, name string, opts ...string) (string, []byte) {
	t.Helper()
	dir := t.TempDir()
	args := []string{"-f", "lavfi", "-i", "testsrc2=size=" + size + ":rate=30", "-t", "2"}
	args = append(append(args, opts...), name)
	FFmpeg(t, dir, args...)
	path := filepath.Join(dir, name)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, data
}

// SplitAnnexB splits an Annex B byte stream at its start codes into NAL
// units, without start codes and without trailing zero bytes.
func SplitAnnexB(stream []byte) [][]byte {
	var nalus [][]byte
	sc := []byte{0, 0, 1}
	i := bytes.Index(stream, sc)
	for i >= 0 {
		start := i + len(sc)
		next := bytes.Index(stream[start:], sc)
		end := len(stream)
		if next >= 0 {
			end = start + next
		}
		nalu := bytes.TrimRight(stream[start:end], "\x00")
		if len(nalu) > 0 {
			nalus = append(nalus, nalu)
		}
		if next < 0 {
			break
		}
		i = end
	}
	return nalus
}

// AnnexB joins NAL units with 4-byte start codes.
func AnnexB(nalus [][]byte) []byte {
	var out []byte
	for _, n := range nalus {
		out = append(out, 0, 0, 0, 1)
		out = append(out, n...)
	}
	return out
}

// LengthPrefixed joins NAL units with 4-byte big-endian lengths.
func LengthPrefixed(nalus [][]byte) []byte {
	var out []byte
	for _, n := range nalus {
		out = binary.BigEndian.AppendUint32(out, uint32(len(n)))
		out = append(out, n...)
	}
	return out
}

// FindBox returns the payload of the first box of type fourcc in an MP4
// file, found by its type code and checked against its size field.
func FindBox(t testing.TB, file []byte, fourcc string) []byte {
	t.Helper()
	for off := 4; off+4 <= len(file); {
		i := bytes.Index(file[off:], []byte(fourcc))
		if i < 0 {
			break
		}
		at := off + i
		size := int(binary.BigEndian.Uint32(file[at-4:]))
		if size >= 8 && at-4+size <= len(file) {
			return file[at+4 : at-4+size]
		}
		off = at + 1
	}
	t.Fatalf("no %s box in the MP4 file", fourcc)
	return nil
}

// CompareRecords decodes the payload of the first fourcc box in the MP4
// file and our configuration record ours with decode, and fails unless
// the two decode to equal values.
func CompareRecords[T comparable](t testing.TB, file []byte, fourcc string, ours []byte, decode func([]byte) (T, error)) {
	t.Helper()
	theirs, err := decode(FindBox(t, file, fourcc))
	if err != nil {
		t.Fatalf("muxer's %s: %v", fourcc, err)
	}
	mine, err := decode(ours)
	if err != nil {
		t.Fatalf("our %s: %v", fourcc, err)
	}
	t.Logf("%s %+v", fourcc, mine)
	if mine != theirs {
		t.Fatalf("%s differs from the muxer's:\nours   %+v\ntheirs %+v", fourcc, mine, theirs)
	}
}
