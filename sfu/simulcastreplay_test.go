package sfu

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4/pkg/media/h264reader"
	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
)

// replayFPS and replayGOP: the replayed layers' frame rate and keyframe
// interval (a keyframe every half second, in every layer at once).
const (
	replayFPS = 30
	replayGOP = 15
)

// replaySizes are the layers' picture sizes, r0 first.
var replaySizes = [simulcastLayers]string{"160x90", "320x180", "640x360"}

// encodeLayer encodes frames of ffmpeg's test pattern at size in codec
// ("vp8" or "h264") and returns each frame: VP8 frames as they are,
// H.264 access units in Annex B.
func encodeLayer(t *testing.T, codec, size string, frames int) [][]byte {
	t.Helper()
	dir := t.TempDir()
	args := []string{"-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=" + size + ":rate=30",
		"-frames:v", strconv.Itoa(frames), "-g", strconv.Itoa(replayGOP), "-keyint_min", strconv.Itoa(replayGOP), "-threads", "1"}
	out := filepath.Join(dir, "layer."+codec)
	switch codec {
	case "vp8":
		args = append(args, "-c:v", "libvpx", "-b:v", "300k", "-auto-alt-ref", "0", "-lag-in-frames", "0", "-f", "ivf", out)
	case "h264":
		args = append(args, "-c:v", "libx264", "-profile:v", "baseline", "-pix_fmt", "yuv420p", "-bf", "0",
			"-sc_threshold", "0", "-x264-params", "repeat-headers=1", "-f", "h264", out)
	}
	if b, err := exec.Command("ffmpeg", args...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, b)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got [][]byte
	if codec == "vp8" {
		got = readIVF(t, f)
	} else {
		got = readAnnexB(t, f)
	}
	if len(got) != frames {
		t.Fatalf("%s %s: %d frames encoded, want %d", codec, size, len(got), frames)
	}
	return got
}

func readIVF(t *testing.T, r io.Reader) [][]byte {
	t.Helper()
	ivf, _, err := ivfreader.NewWith(r)
	if err != nil {
		t.Fatal(err)
	}
	var frames [][]byte
	for {
		f, _, err := ivf.ParseNextFrame()
		if errors.Is(err, io.EOF) {
			return frames
		}
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, f)
	}
}

// readAnnexB groups an H.264 stream (one slice per picture) into access
// units: a new one starts at a parameter set or AUD after a slice, or at
// a second slice.
func readAnnexB(t *testing.T, r io.Reader) [][]byte {
	t.Helper()
	h, err := h264reader.NewReader(r)
	if err != nil {
		t.Fatal(err)
	}
	var frames [][]byte
	var cur bytes.Buffer
	slice := false
	for {
		nal, err := h.NextNAL()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		isSlice := nal.UnitType == h264reader.NalUnitTypeCodedSliceNonIdr || nal.UnitType == h264reader.NalUnitTypeCodedSliceIdr
		if slice && (isSlice || nal.UnitType == h264reader.NalUnitTypeSPS || nal.UnitType == h264reader.NalUnitTypeAUD) {
			frames = append(frames, bytes.Clone(cur.Bytes()))
			cur.Reset()
			slice = false
		}
		cur.Write([]byte{0, 0, 0, 1})
		cur.Write(nal.Data)
		slice = slice || isSlice
	}
	if cur.Len() > 0 {
		frames = append(frames, bytes.Clone(cur.Bytes()))
	}
	return frames
}

// replayLayer is one layer of a replayed simulcast publisher: its frames
// as RTP packets, and its RTP timestamp base.
type replayLayer struct {
	frames [][]*rtp.Packet
	ssrc   uint32
	ts0    uint32
}

// packetizeLayer turns frames into RTP packets as a browser would (VP8
// with 15-bit picture IDs), with the layer's own SSRC and bases.
func packetizeLayer(codec string, frames [][]byte, layer int) replayLayer {
	var payloader rtp.Payloader = &codecs.H264Payloader{}
	if codec == "vp8" {
		payloader = &codecs.VP8Payloader{EnablePictureID: true}
	}
	l := replayLayer{ssrc: uint32(0x1000 + layer)}
	p := rtp.NewPacketizer(1200, 96, l.ssrc, payloader, rtp.NewFixedSequencer(uint16(1000+20000*layer)), 90000)
	for i, f := range frames {
		pkts := p.Packetize(f, 90000/replayFPS)
		if codec == "vp8" {
			// Each layer numbers its pictures its own way, as a browser's do.
			for _, q := range pkts {
				pid := (uint16(q.Payload[2]&0x7f)<<8 | uint16(q.Payload[3]) + uint16(layer*9000)) & 0x7fff
				q.Payload[2], q.Payload[3] = 0x80|byte(pid>>8), byte(pid)
			}
		}
		if i == 0 {
			l.ts0 = pkts[0].Timestamp
		}
		l.frames = append(l.frames, pkts)
	}
	return l
}

// simulcastReplay feeds a simulcast source from replayed layers, as the
// layers' read loops would.
type simulcastReplay struct {
	src    *simulcastSource
	tracks [simulcastLayers]*publishedTrack
	layers [simulcastLayers]replayLayer
	base   time.Time
}

// newSimulcastReplay publishes the layers on c (a simulcast publisher
// joined, not connected) as read loops would, and forwards the source
// to viewers.
func newSimulcastReplay(t *testing.T, c *Connection, codec string, frames int) *simulcastReplay {
	t.Helper()
	mime := map[string]string{"vp8": "video/VP8", "h264": "video/H264"}[codec]
	r := &simulcastReplay{src: c.simulcast, base: time.Unix(2000, 0)}
	for l := range simulcastLayers {
		r.layers[l] = packetizeLayer(codec, encodeLayer(t, codec, replaySizes[l], frames), l)
		tr := &publishedTrack{owner: c, layer: l, source: c.simulcast, history: &trackHistory{},
			limiter: keyframeLimiter{interval: c.sfu.cfg.PLIInterval},
			info: TrackInfo{ConnectionID: c.info.ConnectionID, TrackID: "video-camera-" + simulcastRIDs[l], Kind: KindVideo,
				MimeType: mime, ClockRate: 90000, PayloadType: 96, SSRC: r.layers[l].ssrc}}
		r.tracks[l] = tr
		if c.simulcast.addLayer(tr) {
			for _, v := range c.sfu.trackPublished(c, tr) {
				v.addForward(tr)
			}
		}
	}
	return r
}

// at is the arrival time of frame i.
func (r *simulcastReplay) at(i int) time.Time {
	return r.base.Add(time.Duration(i) * time.Second / replayFPS)
}

// play forwards frames [from, to), the layers' packets interleaved as a
// browser's pacer sends them, skipping those of a layer paused at that
// frame, each layer with a sender report every second.
func (r *simulcastReplay) play(from, to int, paused func(layer, frame int) bool) {
	for i := from; i < to; i++ {
		now := r.at(i)
		for l, lr := range r.layers {
			if i%replayFPS == 0 && !paused(l, i) {
				sr := &rtcp.SenderReport{SSRC: lr.ssrc, NTPTime: ntpTime(now), RTPTime: lr.ts0 + uint32(i*90000/replayFPS)}
				r.src.senderReport(r.tracks[l], sr, now)
			}
		}
		for k := 0; ; k++ {
			more := false
			for l, lr := range r.layers {
				if k >= len(lr.frames[i]) || paused(l, i) {
					continue
				}
				more = true
				p := lr.frames[i][k]
				r.tracks[l].history.record(&p.Header, p.Payload)
				r.src.forward(r.tracks[l], p, now.Add(time.Duration(k)*100*time.Microsecond))
			}
			if !more {
				break
			}
		}
	}
}
