package media

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/kiroku-sfu/kiroku/mux/rtpdump"
)

// writeLongCapture writes the capture repeated passes times as one
// continuous capture, NAME.rtpdump plus its sidecar NAME.json, in dir and
// returns the path of the .rtpdump. Each pass continues every stream where
// the previous one stopped (see seamless): sequence numbers, RTP timestamps
// and arrival offsets advance by one pass, and each pass carries its
// sender reports, their NTP times advanced by the pass's span and their RTP
// times by the stream's timestamp advance, so the capture is one long
// recording on one clock.
func writeLongCapture(dir string, c *capture, passes int) (string, error) {
	base := filepath.Join(dir, fmt.Sprintf("%s_x%d", c.name, passes))
	sc, err := json.Marshal(c.sidecar)
	if err != nil {
		return "", fmt.Errorf("bench: sidecar of %s: %w", c.name, err)
	}
	if err := os.WriteFile(base+".json", sc, 0o644); err != nil {
		return "", fmt.Errorf("bench: write sidecar: %w", err)
	}
	f, err := os.Create(base + ".rtpdump")
	if err != nil {
		return "", fmt.Errorf("bench: create capture: %w", err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	err = writePasses(bw, c, passes)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("bench: write %s: %w", base, err)
	}
	return base + ".rtpdump", nil
}

// writePasses writes the records of every pass to bw.
func writePasses(bw *bufio.Writer, c *capture, passes int) error {
	h := rtpdump.Header{Start: time.Unix(1_700_000_000, 0), Source: netip.AddrFrom4([4]byte{127, 0, 0, 1}), Port: 5004}
	w, err := rtpdump.NewWriter(bw, h)
	if err != nil {
		return err
	}
	l := c.seamless()
	for pass := range passes {
		for i := range c.events {
			e := &c.events[i]
			if !l.keep[i] {
				continue
			}
			data, err := l.shifted(e, pass)
			if err != nil {
				return err
			}
			shift := time.Duration(pass) * l.span
			rec := rtpdump.Packet{Offset: e.arrival + shift, Data: data, RTCP: e.sr != nil}
			if err := w.WritePacket(rec); err != nil {
				return err
			}
		}
	}
	return nil
}

// seamlessLoop is how a pass of a capture repeats with every stream on one
// clock: each stream's timestamps advance by exactly the pass's span, and a
// packet at or beyond that span from the stream's first timestamp (the
// fixtures' audio has a 501st packet, 10 s after its first) is left out,
// so the next pass takes its place.
type seamlessLoop struct {
	span time.Duration // whole seconds
	ts   map[uint32]uint32
	seq  map[uint32]uint16
	keep []bool // per event of the capture
}

// seamless measures the capture's seamlessLoop.
func (c *capture) seamless() seamlessLoop {
	l := seamlessLoop{span: c.loop.span, ts: map[uint32]uint32{}, seq: map[uint32]uint16{}, keep: make([]bool, len(c.events))}
	first := map[uint32]*event{}
	for i := range c.events {
		e := &c.events[i]
		if e.sr != nil {
			l.keep[i] = true
			continue
		}
		ssrc := e.pkt.SSRC
		f, ok := first[ssrc]
		if !ok {
			st, _ := c.sidecar.Stream(ssrc)
			first[ssrc], f = e, e
			l.ts[ssrc] = uint32(uint64(st.ClockRate) * uint64(l.span/time.Second))
		}
		if e.pkt.Timestamp-f.pkt.Timestamp >= l.ts[ssrc] {
			continue
		}
		l.keep[i] = true
		l.seq[ssrc] = max(l.seq[ssrc], e.pkt.SequenceNumber-f.pkt.SequenceNumber+1)
	}
	return l
}

// shifted returns the bytes of event e as pass number pass carries them.
func (l *seamlessLoop) shifted(e *event, pass int) ([]byte, error) {
	p := uint32(pass)
	if e.sr != nil {
		sr := *e.sr
		sr.RTPTime += p * l.ts[sr.SSRC]
		sr.NTPTime += uint64(time.Duration(pass)*l.span/time.Second) << 32
		return sr.Marshal()
	}
	pkt := e.pkt
	pkt.Timestamp += p * l.ts[pkt.SSRC]
	pkt.SequenceNumber += uint16(p) * l.seq[pkt.SSRC]
	return pkt.Marshal()
}
