package rtpmux_test

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/pion/rtp"

	"github.com/kiroku-sfu/kiroku/mux"
	"github.com/kiroku-sfu/kiroku/mux/codec/opus"
	"github.com/kiroku-sfu/kiroku/mux/codec/vp8"
	"github.com/kiroku-sfu/kiroku/mux/rtpmux"
	"github.com/kiroku-sfu/kiroku/mux/webm"
)

// Example wires a Muxer for one connection: each file of the recording is
// a WebM file, a split is planned at 60 s with a keyframe asked for a
// little before it, and packets and sender reports are fed as they come.
func Example() {
	video := &mux.TrackInfo{Codec: mux.VP8, ClockRate: 90000}
	audio := &mux.TrackInfo{Codec: mux.Opus, ClockRate: 48000, Channels: 2}
	part := 0
	m, err := rtpmux.New(rtpmux.Config{
		Video: video, Audio: audio,
		VideoDepacketizer: vp8.NewDepacketizer(), AudioDepacketizer: opus.NewDepacketizer(),
		NewWriter: func(v, a *mux.TrackInfo) (mux.Writer, error) {
			part++
			f, err := os.Create(fmt.Sprintf("recording-%d.webm", part))
			if err != nil {
				return nil, err
			}
			// The caller keeps f and closes it once the part is finished.
			return webm.NewWriter(f, v, a, webm.Options{})
		},
		RequestKeyframe: func() { /* ask the SFU for a PLI */ },
		OnPartClosed:    func(p rtpmux.Part) { fmt.Println("part done:", p.Start, p.End) },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	m.SplitAt(60 * time.Second)
	m.NeedKeyframeAt(59 * time.Second)

	// From the track read loops (any goroutines):
	var pkt rtp.Packet // one received RTP packet
	_ = m.WritePacket(mux.Video, &pkt, 0)
	m.WriteSenderReport(mux.Audio, pkt.SSRC, 0xe8f1_2a3b_0000_0000, 123456)

	sum, err := m.Close()
	switch {
	case errors.Is(err, rtpmux.ErrNoMedia):
		fmt.Println("nothing was recorded")
	case err != nil:
		fmt.Println("recording failed:", err)
	default:
		fmt.Println(sum.VideoFrames, sum.AudioFrames, len(sum.Gaps))
	}
}
