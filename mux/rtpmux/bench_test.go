package rtpmux

import (
	"testing"
	"time"

	"github.com/kiroku-sfu/kiroku/mux"
)

// discardWriter accepts frames and keeps nothing.
type discardWriter struct{}

func (discardWriter) WriteFrame(mux.Kind, mux.Frame) error { return nil }
func (discardWriter) Flush() error                         { return nil }
func (discardWriter) Close(time.Duration) (mux.FileStats, error) {
	return mux.FileStats{}, nil
}

// BenchmarkMuxer measures one packet through a Muxer (assembly, alignment,
// interleaving) of a steady audio and video stream, without a container:
// ns/op and allocs/op are per packet.
func BenchmarkMuxer(b *testing.B) {
	evs := merged(videoEvents(0, 300, 60, 0, 1, 0), audioEvents(500, 0, 2, 0))
	m, err := New(Config{Video: vp8, Audio: opus, VideoDepacketizer: fakeDepacketizer{}, AudioDepacketizer: fakeDepacketizer{},
		NewWriter: func(v, a *mux.TrackInfo) (mux.Writer, error) { return discardWriter{}, nil }})
	if err != nil {
		b.Fatal(err)
	}
	const round = 10 * time.Second // the span of evs
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ev := evs[i%len(evs)]
		if i >= len(evs) { // continue the streams where the last round stopped
			ticks, packets := uint32(90000*10), uint16(600)
			if ev.kind == mux.Audio {
				ticks, packets = 48000*10, 500
			}
			ev.pkt.Timestamp += ticks
			ev.pkt.SequenceNumber += packets
			ev.arrival += round
			evs[i%len(evs)] = ev
		}
		if err := m.WritePacket(ev.kind, ev.pkt, ev.arrival); err != nil {
			b.Fatal(err)
		}
	}
}
