package e2e

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/kiroku-sfu/kiroku/loadgen"
	"github.com/kiroku-sfu/kiroku/mux/rtpdump"
)

// clientAddress is the veth end a Go client sends media from; the SFU
// listens on the other (mediaAddress).
const clientAddress = "198.18.0.2"

// replayPacket is one RTP packet of a capture and when it is due.
type replayPacket struct {
	at    time.Duration
	audio bool
	pkt   rtp.Packet
}

// loadCapture reads a fixture capture's RTP packets (RTCP is left out:
// pion sends the publisher's own reports).
func loadCapture(t *testing.T, name string) []replayPacket {
	t.Helper()
	c, err := rtpdump.Open(filepath.Join("..", "..", "fixtures", "rtpdumps", name))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var out []replayPacket
	for {
		p, err := c.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("read %s: %v", name, err)
		}
		if p.RTCP {
			continue
		}
		var pkt rtp.Packet
		if err := p.UnmarshalRTP(&pkt); err != nil {
			t.Fatalf("read %s: %v", name, err)
		}
		st, ok := c.Sidecar.Stream(pkt.SSRC)
		if !ok {
			t.Fatalf("%s: packet of unknown ssrc %d", name, pkt.SSRC)
		}
		pkt.Payload = append([]byte(nil), pkt.Payload...)
		out = append(out, replayPacket{at: p.Offset, audio: st.Kind == "audio", pkt: pkt})
	}
}

// replayPublisher is a pion client publishing a fixture capture in a
// loop, in real time, as a camera or an encoder would: the way to put a
// codec no browser in the tests sends (H.265) into a channel.
type replayPublisher struct {
	client *loadgen.Client
	cancel context.CancelFunc
	done   sync.WaitGroup
}

// startReplay joins channel as a sendonly client of codec and replays
// the fixture capture name until the test ends.
func startReplay(t *testing.T, ws, channel, codec, name string) *replayPublisher {
	t.Helper()
	packets := loadCapture(t, name)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	client, err := loadgen.Dial(ctx, loadgen.ClientConfig{URL: ws, Channel: channel, Role: loadgen.RoleSendonly,
		Label: "replay-" + name, LocalAddress: clientAddress, VideoCodec: codec, Audio: true})
	if err != nil {
		t.Fatalf("replay publisher: %v", err)
	}
	run, stop := context.WithCancel(context.Background())
	r := &replayPublisher{client: client, cancel: stop}
	r.done.Add(1)
	go func() { defer r.done.Done(); r.loop(run, packets) }()
	t.Cleanup(func() {
		r.cancel()
		r.done.Wait()
		_ = client.Close()
	})
	return r
}

// loop sends the capture again and again; each round's sequence numbers
// and timestamps go on from the last round's, so the stream is one.
func (r *replayPublisher) loop(ctx context.Context, packets []replayPacket) {
	if len(packets) == 0 {
		return
	}
	length := packets[len(packets)-1].at + 20*time.Millisecond
	var perRound [2]int // packets of video, audio in one round
	for _, p := range packets {
		perRound[kindIndex(p.audio)]++
	}
	start := time.Now()
	for round := 0; ; round++ {
		for _, p := range packets {
			if wait := time.Until(start.Add(time.Duration(round)*length + p.at)); wait > 0 {
				select {
				case <-ctx.Done():
					return
				case <-time.After(wait):
				}
			}
			pkt, clock := p.pkt, int64(90000)
			if p.audio {
				clock = 48000
			}
			pkt.SequenceNumber += uint16(round * perRound[kindIndex(p.audio)])
			pkt.Timestamp += uint32(int64(round) * int64(length) * clock / int64(time.Second))
			if p.audio {
				_ = r.client.WriteAudioRTP(&pkt)
			} else {
				_ = r.client.WriteRTP(&pkt)
			}
		}
	}
}

func kindIndex(audio bool) int {
	if audio {
		return 1
	}
	return 0
}
