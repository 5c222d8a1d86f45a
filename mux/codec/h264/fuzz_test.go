package h264

import (
	"testing"

	"github.com/kiroku-sfu/kiroku/mux"
	"github.com/kiroku-sfu/kiroku/mux/codec/internal/codectest"
)

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
	codectest.FuzzFrames(f, func() mux.FrameDepacketizer { return NewDepacketizer() }, seeds, 5, 1)
}

// BenchmarkAppendFrame depacketizes a GOP of 30 frames (a 9 kB keyframe
// with parameter sets, then 3 kB frames, all fragmented at an MTU of 1200)
// frame by frame. The copy sub-benchmark is the floor to compare with: it
// only concatenates the same payloads.
func BenchmarkAppendFrame(b *testing.B) {
	idr := buildSlice(naluIDR, 0, 7, 0, 9000)
	key := cat([][]byte{stapA(testSPS, testPPS)}, fuA(idr, 1198))
	delta := cat([][]byte{testSEI}, fuA(buildSlice(naluSlice, 0, 5, 0, 3000), 1198))
	codectest.BenchmarkGOP(b, key, delta, func() mux.FrameDepacketizer { return NewDepacketizer() })
}
