package h265

import (
	"testing"

	"github.com/kiroku-sfu/kiroku/mux"
	"github.com/kiroku-sfu/kiroku/mux/codec/internal/codectest"
)

func FuzzDepacketize(f *testing.F) {
	seeds := [][][]byte{
		paramsFrame,
		{testAUD, testVPS, testSPS, testPPS, testSEI, testCRA},
		cat([][]byte{ap(testVPS, testSPS, testPPS)}, fu(testIDR, 15), fu(testTrail, 7)),
		cat(fu(testVPS, 2), fu(testSPS, 7), fu(testPPS, 1), [][]byte{testIDR}),
		{testVPS, reorderSPS, testPPS, testTrail},
		{{pktPACI << 1, 1, 0, 0, 0x26, 1}},
		{append(ap(testSEI), 0)},
	}
	codectest.FuzzFrames(f, func() mux.FrameDepacketizer { return NewDepacketizer() }, seeds, 3, 2)
}

// BenchmarkAppendFrame depacketizes a GOP of 30 frames (a 9 kB keyframe
// with parameter sets, then 3 kB frames, all fragmented at an MTU of 1200)
// frame by frame. The copy sub-benchmark is the floor to compare with: it
// only concatenates the same payloads.
func BenchmarkAppendFrame(b *testing.B) {
	key := cat([][]byte{ap(testVPS, testSPS, testPPS)}, fu(buildSlice(typeIDR, 0, 9000), 1197))
	delta := cat([][]byte{testSEI}, fu(buildSlice(typeTrailR, 0, 3000), 1197))
	codectest.BenchmarkGOP(b, key, delta, func() mux.FrameDepacketizer { return NewDepacketizer() })
}
