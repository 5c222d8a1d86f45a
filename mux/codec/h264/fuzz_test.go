package h264

import (
	"encoding/binary"
	"testing"
)

// joinPayloads encodes payloads for the fuzzer: each one prefixed with a
// 2-byte length. splitPayloads is its inverse; trailing bytes that do not
// fill a payload become the last one.
func joinPayloads(payloads [][]byte) []byte {
	var out []byte
	for _, p := range payloads {
		out = binary.BigEndian.AppendUint16(out, uint16(len(p)))
		out = append(out, p...)
	}
	return out
}

func splitPayloads(b []byte) [][]byte {
	var out [][]byte
	for len(b) >= 2 {
		n := int(binary.BigEndian.Uint16(b))
		b = b[2:]
		n = min(n, len(b))
		out = append(out, b[:n])
		b = b[n:]
	}
	if len(b) > 0 {
		out = append(out, b)
	}
	return out
}

func FuzzDepacketize(f *testing.F) {
	seeds := [][][]byte{
		paramsFrame,
		{testAUD, testSPS, testPPS, testSEI, testIDR, testFiller},
		cat([][]byte{stapA(testSPS, testPPS)}, fuA(testIDR, 15), fuA(testIDR2, 7)),
		cat(fuA(testSPS, 3), fuA(testPPS, 2), [][]byte{testIDR}),
		{reorderSPS, testPPS, testP},
		{stapA(testSPS, testPPS, testSEI, testB)},
		{{pktSTAPB, 0, 0, 0, 1, 0x65}},
		{append(stapA(testSPS), 0)},
	}
	for _, s := range seeds {
		f.Add(joinPayloads(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		payloads := splitPayloads(data)
		d := NewDepacketizer()
		for range 2 { // the second pass sees the parameter sets of the first
			prefix := []byte("xx")
			out, info, err := d.AppendFrame(prefix, payloads)
			if err != nil {
				if len(out) != 2 || string(out) != "xx" || info.Config != nil {
					t.Fatalf("failed call returned %x, %+v", out, info)
				}
				continue
			}
			checkLengthPrefixed(t, out[2:], len(data))
			if info.Keyframe != (info.Config != nil) {
				t.Fatalf("keyframe %v with config %v", info.Keyframe, info.Config)
			}
		}
		for _, p := range payloads {
			d.IsFrameStart(p)
		}
	})
}

// checkLengthPrefixed checks that out is a sequence of non-empty 4-byte
// length-prefixed NAL units whose size is bounded by the input size.
func checkLengthPrefixed(t *testing.T, out []byte, inputLen int) {
	t.Helper()
	if len(out) > 5*inputLen {
		t.Fatalf("%d bytes out of %d bytes in", len(out), inputLen)
	}
	for len(out) > 0 {
		if len(out) < 5 {
			t.Fatalf("truncated NAL unit %x", out)
		}
		n := int(binary.BigEndian.Uint32(out))
		if n == 0 || n > len(out)-4 {
			t.Fatalf("bad length %d with %d bytes left", n, len(out)-4)
		}
		out = out[4+n:]
	}
}

// BenchmarkAppendFrame depacketizes a GOP of 30 frames (a 9 kB keyframe
// with parameter sets, then 3 kB frames, all fragmented at an MTU of 1200)
// frame by frame. The copy sub-benchmark is the floor to compare with: it
// only concatenates the same payloads.
func BenchmarkAppendFrame(b *testing.B) {
	idr := buildSlice(naluIDR, 0, 7, 0, 9000)
	key := cat([][]byte{stapA(testSPS, testPPS)}, fuA(idr, 1198))
	delta := cat([][]byte{testSEI}, fuA(buildSlice(naluSlice, 0, 5, 0, 3000), 1198))
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
		d := NewDepacketizer()
		var dst []byte
		for i := 0; b.Loop(); i++ {
			var err error
			if dst, _, err = d.AppendFrame(dst[:0], gop[i%len(gop)]); err != nil {
				b.Fatal(err)
			}
		}
	})
}
