package depack

import (
	"testing"
)

// BenchmarkAssembler measures the cost per packet of a steady video stream
// (10 packets per frame, a keyframe every 60 frames, light reordering):
// see ns/op and allocs/op, one op being one packet.
func BenchmarkAssembler(b *testing.B) {
	g := gen{}
	ins := reversedChunks(g.gopOf(600, 60, 10), 3)
	a, err := New(Config{Track: videoTrack, Depacketizer: fakeDepacketizer{}, OnFrame: func(Frame) {}})
	if err != nil {
		b.Fatal(err)
	}
	n := len(ins)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		in := ins[i%n]
		if i >= n { // every round continues the stream where the last one stopped
			in.pkt.SequenceNumber += uint16(n)
			in.pkt.Timestamp += g.ts
			in.arrival += g.arrival
			ins[i%n] = in
		}
		if err := a.Push(in.pkt, in.arrival); err != nil {
			b.Fatal(err)
		}
	}
}
