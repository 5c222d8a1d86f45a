package codectest

import (
	"encoding/binary"
	"testing"

	"github.com/kiroku-sfu/kiroku/mux"
)

// CheckLengthPrefixed checks that out is a sequence of 4-byte
// length-prefixed NAL units of at least minUnit bytes each, and that it
// is at most maxLen bytes long.
func CheckLengthPrefixed(t testing.TB, out []byte, maxLen, minUnit int) {
	t.Helper()
	if len(out) > maxLen {
		t.Fatalf("%d bytes out, at most %d allowed", len(out), maxLen)
	}
	for len(out) > 0 {
		if len(out) < 4+minUnit {
			t.Fatalf("truncated NAL unit %x", out)
		}
		n := int(binary.BigEndian.Uint32(out))
		if n < minUnit || n > len(out)-4 {
			t.Fatalf("bad length %d with %d bytes left", n, len(out)-4)
		}
		out = out[4+n:]
	}
}

// BenchmarkGOP depacketizes a GOP of 30 frames, key and then 29 times
// delta (each the RTP payloads of one frame), frame by frame with a
// depacketizer from newDepacketizer. The copy sub-benchmark is the floor
// to compare with: it only concatenates the same payloads.
func BenchmarkGOP(b *testing.B, key, delta [][]byte, newDepacketizer func() mux.FrameDepacketizer) {
	gop := make([][][]byte, 30)
	size := 0
	for i := range gop {
		gop[i] = delta
		if i == 0 {
			gop[i] = key
		}
		for _, p := range gop[i] {
			size += len(p)
		}
	}
	b.Run("copy", func(b *testing.B) {
		b.SetBytes(int64(size / len(gop)))
		b.ReportAllocs()
		var dst []byte
		for i := 0; b.Loop(); i++ {
			dst = dst[:0]
			for _, p := range gop[i%len(gop)] {
				dst = append(dst, p...)
			}
		}
	})
	b.Run("depacketize", func(b *testing.B) {
		b.SetBytes(int64(size / len(gop)))
		b.ReportAllocs()
		d := newDepacketizer()
		var dst []byte
		for i := 0; b.Loop(); i++ {
			var err error
			if dst, _, err = d.AppendFrame(dst[:0], gop[i%len(gop)]); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// FuzzTwoPackets fuzzes depacketizers from newDepacketizer with frames of
// two payloads (the fuzz arguments a and b, seeded by the caller's f.Add)
// after asking IsFrameStart about a. A failed call must return its
// one-byte prefix unchanged; check judges every other call's frame (the
// output after the prefix) and info.
func FuzzTwoPackets(f *testing.F, newDepacketizer func() mux.FrameDepacketizer,
	check func(t *testing.T, a, b, frame []byte, info mux.FrameInfo),
) {
	f.Fuzz(func(t *testing.T, a, b []byte) {
		d := newDepacketizer()
		d.IsFrameStart(a)
		out, info, err := d.AppendFrame([]byte{1}, [][]byte{a, b})
		if err != nil {
			if len(out) != 1 {
				t.Fatal("dst changed on error")
			}
			return
		}
		check(t, a, b, out[1:], info)
	})
}
