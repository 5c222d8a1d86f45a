package media

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"github.com/kiroku-sfu/kiroku/mux"
	"github.com/kiroku-sfu/kiroku/mux/codec"
	"github.com/kiroku-sfu/kiroku/mux/rtpdump"
	"github.com/kiroku-sfu/kiroku/mux/rtpmux"
)

// fixtureDir holds the RTP captures the benchmarks replay.
const fixtureDir = "../../fixtures/rtpdumps"

// event is one packet of a capture held in memory: an RTP packet of a
// listed stream, parsed, or a sender report.
type event struct {
	kind    mux.Kind
	arrival time.Duration
	pkt     rtp.Packet
	sr      *rtcp.SenderReport
}

// loop says how far each stream advances in one pass of the capture, so a
// capture replayed again continues where it stopped (a steady stream).
type loop struct {
	span time.Duration // arrival advance per pass
	ts   map[uint32]uint32
	seq  map[uint32]uint16
}

// capture is a whole capture held in memory, so a benchmark measures the
// pipeline and not the disk.
type capture struct {
	name    string
	sidecar rtpdump.Sidecar
	events  []event
	packets int           // RTP packets
	media   time.Duration // media span of one pass
	loop    loop
}

// loadCapture reads the named fixture into memory.
func loadCapture(name string) (*capture, error) {
	c, err := rtpdump.Open(filepath.Join(fixtureDir, name+".rtpdump"))
	if err != nil {
		return nil, err
	}
	defer c.Close()
	cp := &capture{name: name, sidecar: c.Sidecar}
	for {
		rec, err := c.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("bench: read %s: %w", name, err)
		}
		cp.add(rec)
	}
	if cp.packets == 0 {
		return nil, fmt.Errorf("bench: %s holds no RTP packet", name)
	}
	cp.loop = cp.measureLoop()
	cp.media = cp.loop.span
	return cp, nil
}

// add keeps one record: an RTP packet of a listed stream, or a sender report.
func (c *capture) add(rec rtpdump.Packet) {
	if rec.RTCP {
		ps, err := rtcp.Unmarshal(rec.Data)
		if err != nil {
			return
		}
		for _, p := range ps {
			if sr, ok := p.(*rtcp.SenderReport); ok {
				if st, ok := c.sidecar.Stream(sr.SSRC); ok {
					c.events = append(c.events, event{kind: st.TrackInfo().Kind(), arrival: rec.Offset, sr: sr})
				}
			}
		}
		return
	}
	var p rtp.Packet
	if err := p.Unmarshal(append([]byte(nil), rec.Data...)); err != nil {
		return
	}
	st, ok := c.sidecar.Stream(p.SSRC)
	if !ok || st.PayloadType != p.PayloadType {
		return
	}
	c.events = append(c.events, event{kind: st.TrackInfo().Kind(), arrival: rec.Offset, pkt: p})
	c.packets++
}

// measureLoop finds each stream's timestamp and sequence advance per pass:
// its span plus one step (one frame of video at 30 fps, one 20 ms Opus
// packet), so the next pass follows on seamlessly. The arrival advance is
// the last arrival rounded to whole seconds: the fixtures last whole
// seconds, and arrivals trail media time by at most 5 ms of jitter.
func (c *capture) measureLoop() loop {
	l := loop{ts: map[uint32]uint32{}, seq: map[uint32]uint16{}}
	first := map[uint32]rtp.Header{}
	last := map[uint32]rtp.Header{}
	var end time.Duration
	for _, e := range c.events {
		if e.sr != nil {
			continue
		}
		if _, ok := first[e.pkt.SSRC]; !ok {
			first[e.pkt.SSRC] = e.pkt.Header
		}
		last[e.pkt.SSRC] = e.pkt.Header
		end = e.arrival
	}
	for ssrc, f := range first {
		st, _ := c.sidecar.Stream(ssrc)
		step := st.ClockRate / 30
		if st.Codec.Kind() == mux.Audio {
			step = st.ClockRate / 50
		}
		l.ts[ssrc] = last[ssrc].Timestamp - f.Timestamp + step
		l.seq[ssrc] = last[ssrc].SequenceNumber - f.SequenceNumber + 1
	}
	l.span = end.Round(time.Second)
	return l
}

// newMuxer opens a muxer for the capture's tracks; newWriter makes its file.
func (c *capture) newMuxer(newWriter func(video, audio *mux.TrackInfo) (mux.Writer, error)) (*rtpmux.Muxer, error) {
	cfg := rtpmux.Config{NewWriter: newWriter}
	for _, st := range c.sidecar.Streams {
		info := st.TrackInfo()
		dep, err := codec.NewDepacketizer(st.Codec, st.Fmtp)
		if err != nil {
			return nil, err
		}
		switch {
		case info.Kind() == mux.Video && cfg.Video == nil:
			cfg.Video, cfg.VideoDepacketizer = &info, dep
		case info.Kind() == mux.Audio && cfg.Audio == nil:
			cfg.Audio, cfg.AudioDepacketizer = &info, dep
		}
	}
	return rtpmux.New(cfg)
}

// replay feeds pass number pass of the capture (0 for the first) to m,
// up to arrival offset until (or all of it when until <= 0). Later passes
// shift timestamps, sequence numbers and arrivals to continue the streams
// and leave out the sender reports, which the first pass delivered.
func (c *capture) replay(m *rtpmux.Muxer, pass int, until time.Duration) error {
	var pkt rtp.Packet
	shift := time.Duration(pass) * c.loop.span
	for i := range c.events {
		e := &c.events[i]
		if until > 0 && e.arrival > until {
			return nil
		}
		if e.sr != nil {
			if pass == 0 {
				m.WriteSenderReport(e.kind, e.sr.SSRC, e.sr.NTPTime, e.sr.RTPTime)
			}
			continue
		}
		pkt = e.pkt
		pkt.Timestamp += uint32(pass) * c.loop.ts[pkt.SSRC]
		pkt.SequenceNumber += uint16(pass) * c.loop.seq[pkt.SSRC]
		if err := m.WritePacket(e.kind, &pkt, e.arrival+shift); err != nil {
			return fmt.Errorf("bench: replay %s: %w", c.name, err)
		}
	}
	return nil
}

// mediaBytes is the RTP payload carried by one pass.
func (c *capture) mediaBytes() int {
	n := 0
	for _, e := range c.events {
		n += len(e.pkt.Payload)
	}
	return n
}
