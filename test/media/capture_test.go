package media

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"github.com/kiroku-sfu/kiroku/mux"
	"github.com/kiroku-sfu/kiroku/mux/rtpdump"
)

// frameRate is the fixtures' video frame rate (fixtures/README.md).
const frameRate = 30

// frameDur is one video frame of the fixtures.
const frameDur = time.Second / frameRate

// opusFrame is the fixtures' Opus packet duration.
const opusFrame = 20 * time.Millisecond

// captureFacts is what a capture itself says about the media in it, read
// straight from its packets with no part of the pipeline involved. Times are
// on the capture's reference clock: the senders' NTP clock from the sender
// reports when every stream has one, else the arrival offsets.
type captureFacts struct {
	// VideoFrames counts distinct complete frames: RTP timestamp groups
	// of one SSRC that hold a packet with the marker bit.
	VideoFrames int
	// VideoStart is the first frame's time, VideoEnd the last frame's
	// time plus one frame.
	VideoStart, VideoEnd time.Duration
	// AudioStart is the first packet's time, AudioEnd the last packet's
	// time plus one Opus frame.
	AudioStart, AudioEnd time.Duration
	// AudioPackets counts distinct audio packets (by SSRC and timestamp).
	AudioPackets int
	// AudioMaxStep is the longest step between consecutive audio packets
	// (20 ms without DTX).
	AudioMaxStep time.Duration
	// BySR says whether the times come from sender reports.
	BySR bool
}

// Span is the capture's whole media span, both tracks together.
func (c captureFacts) Span() time.Duration {
	return max(c.VideoEnd, c.AudioEnd) - min(c.VideoStart, c.AudioStart)
}

// capPacket is the part of a captured RTP packet the analysis needs.
type capPacket struct {
	arrival time.Duration
	ssrc    uint32
	ts      uint32
	marker  bool
}

// firstSR maps each SSRC to its first sender report.
type firstSR map[uint32]rtcp.SenderReport

// capturePath returns the path of the named fixture.
func capturePath(name string) string {
	return filepath.Join(fixtureDir, name+".rtpdump")
}

// analyzeCapture reads the named fixture and reports its facts.
func analyzeCapture(name string) (captureFacts, error) {
	c, err := rtpdump.Open(capturePath(name))
	if err != nil {
		return captureFacts{}, err
	}
	defer c.Close()
	pkts, srs, err := readCapture(c)
	if err != nil {
		return captureFacts{}, fmt.Errorf("read %s: %w", name, err)
	}
	bySR := true
	for _, st := range c.Sidecar.Streams {
		if _, ok := srs[st.SSRC]; !ok {
			bySR = false
		}
	}
	return summarize(c.Sidecar, pkts, srs, bySR), nil
}

// readCapture returns the RTP packets of listed streams and the first
// sender report of each stream.
func readCapture(c *rtpdump.Capture) ([]capPacket, firstSR, error) {
	var pkts []capPacket
	srs := firstSR{}
	var p rtp.Packet
	for {
		rec, err := c.Next()
		if errors.Is(err, io.EOF) {
			return pkts, srs, nil
		}
		if err != nil {
			return nil, nil, err
		}
		if rec.RTCP {
			addSenderReports(srs, rec.Data)
			continue
		}
		if rec.UnmarshalRTP(&p) != nil {
			continue
		}
		if st, ok := c.Sidecar.Stream(p.SSRC); ok && st.PayloadType == p.PayloadType {
			pkts = append(pkts, capPacket{arrival: rec.Offset, ssrc: p.SSRC, ts: p.Timestamp, marker: p.Marker})
		}
	}
}

// addSenderReports keeps the first sender report of each SSRC in data.
func addSenderReports(srs firstSR, data []byte) {
	ps, err := rtcp.Unmarshal(data)
	if err != nil {
		return
	}
	for _, p := range ps {
		if sr, ok := p.(*rtcp.SenderReport); ok {
			if _, seen := srs[sr.SSRC]; !seen {
				srs[sr.SSRC] = *sr
			}
		}
	}
}

// summarize turns the packets into facts.
func summarize(sc rtpdump.Sidecar, pkts []capPacket, srs firstSR, bySR bool) captureFacts {
	type key struct{ ssrc, ts uint32 }
	var video, audio []time.Duration
	videoSeen, audioSeen := map[key]bool{}, map[key]bool{}
	for _, p := range pkts {
		st, _ := sc.Stream(p.ssrc)
		at := p.arrival
		if bySR {
			at = srTime(srs[p.ssrc], p.ts, st.ClockRate)
		}
		k := key{p.ssrc, p.ts}
		switch {
		case st.TrackInfo().Kind() == mux.Video && p.marker && !videoSeen[k]:
			videoSeen[k] = true
			video = append(video, at)
		case st.TrackInfo().Kind() == mux.Audio && !audioSeen[k]:
			audioSeen[k] = true
			audio = append(audio, at)
		}
	}
	slices.Sort(video)
	slices.Sort(audio)
	f := captureFacts{VideoFrames: len(video), AudioPackets: len(audio), BySR: bySR}
	if len(video) > 0 {
		f.VideoStart, f.VideoEnd = video[0], video[len(video)-1]+frameDur
	}
	if len(audio) > 0 {
		f.AudioStart, f.AudioEnd = audio[0], audio[len(audio)-1]+opusFrame
	}
	for i := 1; i < len(audio); i++ {
		f.AudioMaxStep = max(f.AudioMaxStep, audio[i]-audio[i-1])
	}
	return f
}

// srTime maps an RTP timestamp to the sender's NTP clock through a sender
// report of its stream. The signed 32-bit difference handles wrap-around.
func srTime(sr rtcp.SenderReport, ts, clock uint32) time.Duration {
	ntp := time.Duration(sr.NTPTime>>32)*time.Second +
		time.Duration((sr.NTPTime&0xffffffff)*uint64(time.Second)>>32)
	ticks := int64(int32(ts - sr.RTPTime))
	return ntp + time.Duration(ticks*int64(time.Second)/int64(clock))
}
