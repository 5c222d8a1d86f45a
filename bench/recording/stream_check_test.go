package recording

import (
	"math"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"github.com/kiroku-sfu/kiroku/mux"
)

// collector is a Sink that keeps what it is given.
type collector struct {
	last time.Time // latest arrival
	back int       // arrivals earlier than the one before
	pkts []*rtp.Packet
	kind []mux.Kind
	srs  int
}

func (c *collector) WriteRTP(k mux.Kind, p *rtp.Packet, at time.Time) {
	c.arrive(at)
	c.pkts, c.kind = append(c.pkts, p), append(c.kind, k)
}

func (c *collector) WriteSenderReport(_ mux.Kind, _ *rtcp.SenderReport, at time.Time) {
	c.arrive(at)
	c.srs++
}

func (c *collector) arrive(at time.Time) {
	if at.Before(c.last) {
		c.back++
	}
	c.last = at
}

func (c *collector) PublisherClosed() {}

// TestStream checks the replayed publisher: its rate, and that looped
// passes continue sequence numbers and timestamps without a jump while
// keeping every video frame (one marker per frame, 30 frames a second,
// each frame starting with its VP8 start-of-partition packet).
func TestStream(t *testing.T) {
	tests := []struct {
		name    string
		bitrate int
		lo, hi  float64 // bit/s
	}{
		{"capture as is", 0, 100e3, 400e3},
		{"inflated to 2.5 Mbit/s", targetBitrate, 0.95 * targetBitrate, 1.02 * targetBitrate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := loadStream(10*time.Second, tt.bitrate)
			if err != nil {
				t.Fatal(err)
			}
			if r := st.bitrate(); r < tt.lo || r > tt.hi {
				t.Errorf("bitrate %.0f bit/s, want %.0f-%.0f", r, tt.lo, tt.hi)
			}
			var c collector
			st.play(&c, time.Now(), 3, 0)
			checkContinuity(t, &c)
			if c.back > 0 {
				t.Errorf("%d arrivals earlier than the one before", c.back)
			}
			if c.srs == 0 {
				t.Error("no sender reports replayed")
			}
		})
	}
}

// checkContinuity checks sequence numbers and timestamps per kind, and the
// video frame count of three 10 s passes.
func checkContinuity(t *testing.T, c *collector) {
	t.Helper()
	last := map[mux.Kind]*rtp.Packet{}
	markers, frameStart := 0, true
	for i, p := range c.pkts {
		k := c.kind[i]
		if k == mux.Video {
			if frameStart && p.Payload[0]&vp8StartBit == 0 {
				t.Fatalf("video packet %d starts a frame without the VP8 start bit", i)
			}
			frameStart = p.Marker
			if p.Marker {
				markers++
			}
		}
		if prev := last[k]; prev != nil {
			if p.SequenceNumber != prev.SequenceNumber+1 {
				t.Fatalf("%v packet %d: sequence %d after %d", k, i, p.SequenceNumber, prev.SequenceNumber)
			}
			if step := int64(int32(p.Timestamp - prev.Timestamp)); step < 0 || step > 48000 {
				t.Fatalf("%v packet %d: timestamp step %d", k, i, step)
			}
		}
		last[k] = p
	}
	if want := 3 * 10 * 30; math.Abs(float64(markers-want)) > 0 {
		t.Errorf("%d video frames in 30 s, want %d", markers, want)
	}
}
