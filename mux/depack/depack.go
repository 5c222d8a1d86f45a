// Package depack turns one RTP stream into complete frames: it puts packets
// back in sequence order within a bounded window, extends sequence numbers
// and timestamps to 64 bits, assembles video frames from their packets,
// drops what a loss has made undecodable until the next keyframe, and
// reports every such gap.
//
// An Assembler is fed by one goroutine (Push, Flush) and calls its
// callbacks synchronously from those calls. It keeps a fixed reorder ring
// whose buffers are reused, so a steady stream allocates nothing per packet.
// Only packets that must wait for others are copied into the ring: one that
// arrives exactly in sequence is consumed straight from the caller's packet,
// and a video frame of one packet goes to the depacketizer without a copy.
package depack

import (
	"errors"
	"fmt"
	"time"

	"github.com/kiroku-sfu/kiroku/mux"
)

// Bounds and defaults of Config.
const (
	DefaultReorderWindow = 32
	DefaultMaxLatency    = 450 * time.Millisecond
	maxReorderWindow     = 4096
	minRing              = 64
	// maxFrameBytes bounds one frame's payload; a bigger frame is dropped.
	maxFrameBytes = 8 << 20
	// shrinkAbove is the frame buffer capacity kept whatever the frames'
	// sizes; bigger buffers are replaced once they are mostly unused.
	shrinkAbove = 32 << 10
)

// Frame is a complete frame of one stream.
type Frame struct {
	// Timestamp is the RTP timestamp extended to 64 bits, in clock-rate
	// ticks. It is 0 at the stream's first packet in sequence order and
	// continues across SSRC changes and restarts (see Assembler), so it is
	// one timeline for the whole track.
	Timestamp int64
	// RTPTimestamp and SSRC are the frame's values on the wire, for mapping
	// through the sender's RTCP reports.
	RTPTimestamp uint32
	SSRC         uint32
	// Arrival is the arrival time of the frame's first packet.
	Arrival  time.Duration
	Keyframe bool
	// Data is the container-ready frame. It is only valid during the
	// OnFrame call; keep a copy to hold it longer.
	Data []byte
	// Config is set on video keyframes (see mux.FrameInfo).
	Config *mux.VideoConfig
}

// Gap is a stretch of the track without frames caused by a fault, on the
// same timeline as Frame.Timestamp: [Start, End).
type Gap struct {
	Start, End    int64
	Cause         mux.GapCause
	DroppedFrames int
}

// Stats counts what an Assembler saw.
type Stats struct {
	PacketsReceived  int // every packet pushed, valid or not
	PacketsLost      int // sequence numbers given up after waiting
	PacketsLate      int // arrived after their number was passed (dropped)
	PacketsDuplicate int // copies of a packet already held or consumed
	PacketsPadding   int // padding-only packets (no payload)
	PacketsInvalid   int // too big, or far out of sequence / of another SSRC and not (yet) confirmed
	FramesEmitted    int
	FramesDropped    int
	KeyframeRequests int
	Restarts         int // SSRC changes and confirmed sequence restarts
	// FramesCodecError counts complete frames the depacketizer refused
	// (malformed, unsupported, or a keyframe without parameter sets), and
	// of those KeyframesNoParams the keyframes whose parameter sets were
	// unknown and FramesUnsupported the frames of a packetization or
	// feature kiroku cannot write.
	FramesCodecError  int
	KeyframesNoParams int
	FramesUnsupported int
	// FramesUndecodable counts video frames dropped from a refused frame
	// until the next keyframe written: frames lost to the codec, not to
	// the network.
	FramesUndecodable int
	// FramesLeadingSkipped counts H.265 RASL pictures dropped because
	// decoding started at the CRA/BLA picture they belong to.
	FramesLeadingSkipped int
}

// Config configures an Assembler.
type Config struct {
	// Track describes the stream; Track.Kind() selects video frame
	// assembly or audio (one packet, one frame). ClockRate must be set.
	Track mux.TrackInfo
	// Depacketizer turns one frame's payloads into container bytes. It
	// must be this stream's own instance.
	Depacketizer mux.FrameDepacketizer
	// ReorderWindow is how far, in sequence numbers, a packet may arrive
	// behind later ones and still be used: a hole is given up once a packet
	// this far past it has arrived (default 32, at most 4096).
	ReorderWindow int
	// MaxLatency is how long, in arrival time, a hole may wait for a late
	// packet after the first packet behind it arrived (default 450 ms,
	// enough for 20 packets of 20 ms audio to overtake a late one).
	MaxLatency time.Duration
	// OnFrame receives every complete frame, in order. Required.
	OnFrame func(Frame)
	// OnGap receives every gap once it is closed (optional).
	OnGap func(Gap)
	// RequestKeyframe is called once per video gap (optional). The caller
	// rate-limits the resulting PLIs.
	RequestKeyframe func()
}

func (c *Config) setDefaults() {
	if c.ReorderWindow == 0 {
		c.ReorderWindow = DefaultReorderWindow
	}
	if c.MaxLatency == 0 {
		c.MaxLatency = DefaultMaxLatency
	}
}

// Validate reports the first invalid field.
func (c *Config) Validate() error {
	if _, err := mux.ParseCodec(string(c.Track.Codec)); err != nil {
		return fmt.Errorf("depack: %w", err)
	}
	switch {
	case c.Track.ClockRate == 0:
		return errors.New("depack: clock rate is 0")
	case c.Depacketizer == nil:
		return errors.New("depack: no depacketizer")
	case c.OnFrame == nil:
		return errors.New("depack: no OnFrame callback")
	case c.ReorderWindow < 0 || c.ReorderWindow > maxReorderWindow || c.MaxLatency < 0:
		return fmt.Errorf("depack: reorder window %d outside [0, %d] or negative latency", c.ReorderWindow, maxReorderWindow)
	}
	return nil
}
