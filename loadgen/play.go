package loadgen

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
)

// ClipWriter is what a [Clip] plays into: a publisher's video and audio
// tracks, and the keyframe requests its server sent. [Client] is one.
type ClipWriter interface {
	WriteRTP(p *rtp.Packet) error
	WriteAudioRTP(p *rtp.Packet) error
	TakeVideoKeyframeRequest() bool
}

// ClipCounters counts what players sent; they may be shared by several
// players and read at any time.
type ClipCounters struct {
	Packets atomic.Uint64 // RTP packets written, audio and video
	Bytes   atomic.Uint64 // their RTP header and payload bytes
	Errors  atomic.Uint64 // writes that failed
	// Restarts counts keyframe requests answered by starting the clip
	// again at its first frame.
	Restarts atomic.Uint64
}

// clipMTU is the largest RTP packet (header and payload) a player sends,
// as browsers' 1200-byte packets leave room for SRTP and extensions.
const clipMTU = 1200

// Play sends the clip in a loop from delay after the call until ctx
// ends: every video frame at its time, packetized by pion's VP8
// payloader (with picture ids, as browsers send), and an Opus packet
// every 20 ms. RTP timestamps and sequence numbers run on across loops.
// A keyframe request (w.TakeVideoKeyframeRequest) is answered by going
// back to the clip's first frame, its keyframe, at the next frame time;
// that is a real keyframe where an encoder would make one, at the cost of
// repeating part of the clip. Play returns ctx's error.
func (c *Clip) Play(ctx context.Context, w ClipWriter, delay time.Duration, n *ClipCounters) error {
	video := rtp.NewPacketizer(clipMTU, uint8(vp8.PayloadType), 0, &codecs.VP8Payloader{EnablePictureID: true},
		rtp.NewRandomSequencer(), vp8.ClockRate)
	audio := rtp.NewPacketizer(clipMTU, uint8(opus.PayloadType), 0, &codecs.OpusPayloader{}, rtp.NewRandomSequencer(), opus.ClockRate)
	audioTicks := opus.ClockRate / uint32(time.Second/audioPacketTime)
	start := time.Now().Add(delay)
	var frames, packets, pos int // video frames sent, audio packets sent, video position
	timer := time.NewTimer(delay)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
		}
		now := time.Now()
		for ; start.Add(time.Duration(frames) * c.frameTime).Before(now.Add(time.Millisecond)); frames++ {
			if w.TakeVideoKeyframeRequest() && pos != 0 {
				pos = 0
				n.Restarts.Add(1)
			}
			send(video.Packetize(c.video[pos], c.frameTicks), w.WriteRTP, n)
			pos = (pos + 1) % len(c.video)
		}
		for ; start.Add(time.Duration(packets) * audioPacketTime).Before(now.Add(time.Millisecond)); packets++ {
			send(audio.Packetize(c.audio[packets%len(c.audio)], audioTicks), w.WriteAudioRTP, n)
		}
		next := min(time.Duration(frames)*c.frameTime, time.Duration(packets)*audioPacketTime)
		timer.Reset(time.Until(start.Add(next)))
	}
}

// send writes packets and counts them.
func send(packets []*rtp.Packet, write func(*rtp.Packet) error, n *ClipCounters) {
	for _, p := range packets {
		if err := write(p); err != nil {
			n.Errors.Add(1)
			continue
		}
		n.Packets.Add(1)
		n.Bytes.Add(uint64(p.MarshalSize()))
	}
}
