// Package recording benchmarks session recording as a whole: N publishers
// replayed from the fixture corpus through archive's Manager and
// Recorders writing real files, against the same packet hand-off without
// recorders (what a forwarding SFU pays anyway). It reports the CPU that
// recording adds per publisher, the heap each recorded connection keeps,
// and how long archive.available takes after a publisher leaves. It has
// test files only (`make bench`); docs/recording.md records the figures.
package recording

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"github.com/kiroku-sfu/kiroku/archive"
	"github.com/kiroku-sfu/kiroku/mux"
	"github.com/kiroku-sfu/kiroku/mux/rtpdump"
)

const (
	// fixture is the capture every benchmark replays (VP8 + Opus, 10 s).
	fixture = "../../fixtures/rtpdumps/vp8_opus"
	// targetBitrate is the publisher rate the goals are stated for.
	targetBitrate = 2_500_000
	// fillerPayload is the payload size of the packets added to reach it.
	fillerPayload = 1200
	// rtpHeaderSize is the size of the capture's RTP headers (no CSRC or
	// extension).
	rtpHeaderSize = 12
	// vp8StartBit is the S (start of partition) bit of the VP8 descriptor.
	vp8StartBit = 0x10
)

// item is one record of a pass: an RTP packet or a sender report.
type item struct {
	kind   mux.Kind
	offset time.Duration
	pkt    *rtp.Packet
	sr     *rtcp.SenderReport
}

// stream is one publisher's media: a pass of the capture that is replayed
// again and again, each pass continuing the sequence numbers, timestamps
// and sender reports of the one before (a steady stream).
type stream struct {
	conn   archive.Connection
	pass   []item
	span   time.Duration     // media length of one pass
	seqAdv map[uint32]uint16 // per SSRC, sequence numbers used by one pass
	tsAdv  map[uint32]uint32 // per SSRC, RTP ticks of one pass
	bytes  int               // RTP bytes (header + payload) of one pass
}

// bitrate is the stream's RTP rate in bit/s.
func (s *stream) bitrate() float64 { return float64(s.bytes*8) / s.span.Seconds() }

// loadStream reads the fixture, keeps exactly span of media (whole video
// frames and Opus packets) and, when bitrate > 0, adds continuation packets
// to every video frame so the publisher sends about bitrate bit/s.
func loadStream(span time.Duration, bitrate int) (*stream, error) {
	c, err := rtpdump.Open(fixture)
	if err != nil {
		return nil, fmt.Errorf("load stream: %w", err)
	}
	defer c.Close()
	s := &stream{span: span, seqAdv: map[uint32]uint16{}, tsAdv: map[uint32]uint32{}}
	s.conn = archive.Connection{ClientID: "client", BundleID: "bundle", Role: "sendonly"}
	first := map[uint32]uint32{}
	for _, st := range c.Sidecar.Streams {
		tr := &archive.Track{Codec: st.Codec, ClockRate: st.ClockRate, Channels: st.Channels, Fmtp: st.Fmtp}
		if st.Codec.Kind() == mux.Video {
			s.conn.Video = tr
		} else {
			s.conn.Audio = tr
		}
		s.tsAdv[st.SSRC] = uint32(span.Seconds() * float64(st.ClockRate))
	}
	for {
		rec, err := c.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("load stream: %w", err)
		}
		if it, ok := parse(c.Sidecar, rec, first, s.tsAdv); ok && it.offset < span {
			s.pass = append(s.pass, it)
		}
	}
	if bitrate > 0 {
		s.pass = inflate(s.pass, bitrate, span)
	}
	s.count()
	return s, nil
}

// parse turns a record into an item; ok is false for records of unlisted
// streams, unparsable ones, and RTP packets beyond one pass of media.
func parse(sc rtpdump.Sidecar, rec rtpdump.Packet, first, adv map[uint32]uint32) (item, bool) {
	data := append([]byte(nil), rec.Data...) // the reader reuses its buffer
	if rec.RTCP {
		pkts, err := rtcp.Unmarshal(data)
		if err != nil || len(pkts) == 0 {
			return item{}, false
		}
		sr, ok := pkts[0].(*rtcp.SenderReport)
		if !ok {
			return item{}, false
		}
		st, ok := sc.Stream(sr.SSRC)
		return item{kind: st.Codec.Kind(), offset: rec.Offset, sr: sr}, ok
	}
	p := &rtp.Packet{}
	if err := p.Unmarshal(data); err != nil {
		return item{}, false
	}
	st, ok := sc.Stream(p.SSRC)
	if !ok {
		return item{}, false
	}
	f, seen := first[p.SSRC]
	if !seen {
		first[p.SSRC], f = p.Timestamp, p.Timestamp
	}
	if p.Timestamp-f >= adv[p.SSRC] {
		return item{}, false
	}
	return item{kind: st.Codec.Kind(), offset: rec.Offset, pkt: p}, true
}

// count fills seqAdv and bytes from the pass.
func (s *stream) count() {
	s.bytes = 0
	for _, it := range s.pass {
		if it.pkt != nil {
			s.seqAdv[it.pkt.SSRC]++
			s.bytes += it.pkt.MarshalSize()
		}
	}
}

// inflate grows every video frame in proportion to its size so that the
// pass carries about bitrate bit/s: continuation packets (the frame's VP8
// descriptor without the start bit, then filler) go after the frame's
// first packet, and video sequence numbers are renumbered. Frame headers,
// keyframes and timing are unchanged; the frames' content is not
// decodable, which the recorder does not need. The result is in arrival
// order.
func inflate(pass []item, bitrate int, span time.Duration) []item {
	var video, audio int
	for _, it := range pass {
		if it.pkt != nil && it.kind == mux.Video {
			video += it.pkt.MarshalSize()
		} else if it.pkt != nil {
			audio += it.pkt.MarshalSize()
		}
	}
	factor := (float64(bitrate)*span.Seconds()/8 - float64(audio)) / float64(video)
	var (
		out, frame []item
		seq        uint16
		started    bool
	)
	var carry float64 // filler bytes owed by earlier frames' rounding
	flush := func() {
		var grown []item
		grown, carry = grow(frame, factor, carry)
		for _, it := range grown {
			it.pkt.SequenceNumber = seq
			seq++
			out = append(out, it)
		}
		frame = frame[:0]
	}
	for _, it := range pass {
		if it.kind != mux.Video || it.pkt == nil {
			out = append(out, it)
			continue
		}
		if !started {
			seq, started = it.pkt.SequenceNumber, true
		}
		if len(frame) > 0 && frame[0].pkt.Timestamp != it.pkt.Timestamp {
			flush()
		}
		frame = append(frame, it)
	}
	flush()
	// A frame's packets were held back while audio went on: restore arrival
	// order (stable, so each stream keeps its own order).
	slices.SortStableFunc(out, func(a, b item) int { return cmp.Compare(a.offset, b.offset) })
	return out
}

// grow returns frame with continuation packets inserted after its first
// packet until its bytes are factor times what they were, plus carry; it
// also returns the bytes still owed, carried to the next frame. The
// frame's last packet keeps the marker.
func grow(frame []item, factor, carry float64) ([]item, float64) {
	if len(frame) == 0 || factor <= 1 {
		return frame, carry
	}
	size := 0
	for _, it := range frame {
		size += it.pkt.MarshalSize()
	}
	owed := float64(size)*(factor-1) + carry
	extra := int(owed) / (fillerPayload + rtpHeaderSize)
	carry = owed - float64(extra*(fillerPayload+rtpHeaderSize))
	if extra == 0 {
		return frame, carry
	}
	head := frame[0]
	desc := vp8Descriptor(head.pkt.Payload)
	out := []item{head}
	for range extra {
		p := &rtp.Packet{Header: head.pkt.Header.Clone(), Payload: filler(desc)}
		p.Marker = false
		out = append(out, item{kind: mux.Video, offset: head.offset, pkt: p})
	}
	if len(frame) == 1 { // the marker moves to the new last packet
		out[len(out)-1].pkt.Marker, head.pkt.Marker = head.pkt.Marker, false
	}
	return append(out, frame[1:]...), carry
}

// vp8Descriptor returns a copy of the VP8 payload descriptor at the start
// of payload with the start-of-partition bit cleared.
func vp8Descriptor(payload []byte) []byte {
	n := 1
	if len(payload) > 0 && payload[0]&0x80 != 0 { // X: extension byte follows
		n = 2
		if len(payload) > 1 {
			ext := payload[1]
			if ext&0x80 != 0 { // I: picture ID, one or two bytes
				n++
				if len(payload) > 2 && payload[2]&0x80 != 0 {
					n++
				}
			}
			if ext&0x40 != 0 { // L: TL0PICIDX
				n++
			}
			if ext&0x30 != 0 { // T or K: TID/KEYIDX
				n++
			}
		}
	}
	n = min(n, len(payload))
	d := append([]byte(nil), payload[:n]...)
	if len(d) > 0 {
		d[0] &^= vp8StartBit
	}
	return d
}

// filler is a continuation payload: desc, then bytes up to fillerPayload.
func filler(desc []byte) []byte {
	b := make([]byte, fillerPayload)
	copy(b, desc)
	for i := len(desc); i < len(b); i++ {
		b[i] = byte(i)
	}
	return b
}
