package sfu

import (
	"bytes"
	"encoding/binary"
	"slices"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// recordingWriter keeps what the responder writes below itself.
type recordingWriter struct {
	mu   sync.Mutex
	sent []rtp.Packet
}

func (w *recordingWriter) Write(h *rtp.Header, payload []byte, _ interceptor.Attributes) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.sent = append(w.sent, rtp.Packet{Header: *h, Payload: append([]byte(nil), payload...)})
	return len(payload), nil
}

func (w *recordingWriter) take() []rtp.Packet {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.sent
	w.sent = nil
	return out
}

// nackReader returns one marshalled RTCP compound packet per Read.
type nackReader struct{ packets [][]byte }

func (r *nackReader) Read(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
	n := copy(b, r.packets[0])
	r.packets = r.packets[1:]
	return n, a, nil
}

const (
	testSSRC, testRTXSSRC = 1111, 2222
	testPT, testRTXPT     = 96, 97
)

func TestNackResponder(t *testing.T) {
	payloadOf := func(seq uint16) []byte { return bytes.Repeat([]byte{byte(seq)}, 10) }
	cases := []struct {
		name      string
		rtx       bool
		sent      []uint16 // sequence numbers forwarded
		nacks     [][]uint16
		gap       time.Duration // clock advance between NACKs
		wantOrig  []uint16      // original sequence numbers resent, in order
		wantPlain bool          // resent on the media SSRC, not RTX
	}{
		{name: "rtx", rtx: true, sent: []uint16{10, 11, 12, 13}, nacks: [][]uint16{{11, 13}}, wantOrig: []uint16{11, 13}},
		{name: "no rtx: resent as is", sent: []uint16{10, 11}, nacks: [][]uint16{{11}}, wantOrig: []uint16{11}, wantPlain: true},
		{name: "unknown packets ignored", rtx: true, sent: []uint16{10}, nacks: [][]uint16{{9, 10, 11}}, wantOrig: []uint16{10}},
		{name: "overwritten slot ignored", rtx: true, sent: []uint16{5, 5 + nackHistory}, nacks: [][]uint16{{5}}},
		{name: "repeat inside interval merged", rtx: true, sent: []uint16{1}, nacks: [][]uint16{{1}, {1}}, gap: time.Millisecond, wantOrig: []uint16{1}},
		{name: "repeat after interval resent", rtx: true, sent: []uint16{1}, nacks: [][]uint16{{1}, {1}}, gap: resendInterval, wantOrig: []uint16{1, 1}},
		{name: "sequence wrap", rtx: true, sent: []uint16{65535, 0}, nacks: [][]uint16{{65535, 0}}, wantOrig: []uint16{65535, 0}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			now := time.Unix(1000, 0)
			resp := newNackResponder(func() time.Time { return now }, nil)
			history := &trackHistory{}
			resp.link(testSSRC, history)
			info := &interceptor.StreamInfo{SSRC: testSSRC, PayloadType: testPT,
				RTCPFeedback: []interceptor.RTCPFeedback{{Type: "nack"}}}
			if tc.rtx {
				info.SSRCRetransmission, info.PayloadTypeRetransmission = testRTXSSRC, testRTXPT
			}
			below := &recordingWriter{}
			if w := resp.BindLocalStream(info, below); w != interceptor.RTPWriter(below) {
				t.Fatal("the responder wrapped the SRTP writer: it must add nothing per packet")
			}
			for _, seq := range tc.sent {
				// As the publisher's track records it: its own SSRC and
				// payload type, which the viewer's replace.
				h := &rtp.Header{Version: 2, SSRC: 9999, PayloadType: 100, SequenceNumber: seq, Timestamp: 90 * uint32(seq),
					Marker: seq%2 == 0, CSRC: csrcOf(seq)}
				history.record(h, payloadOf(seq))
			}
			reader := &nackReader{}
			for _, seqs := range tc.nacks {
				b, err := (&rtcp.TransportLayerNack{MediaSSRC: testSSRC, Nacks: rtcp.NackPairsFromSequenceNumbers(seqs)}).Marshal()
				if err != nil {
					t.Fatal(err)
				}
				reader.packets = append(reader.packets, b)
			}
			r := resp.BindRTCPReader(reader)
			for range tc.nacks {
				if _, _, err := r.Read(make([]byte, 1500), nil); err != nil {
					t.Fatal(err)
				}
				now = now.Add(tc.gap)
			}
			checkResent(t, below.take(), tc.wantOrig, tc.wantPlain, payloadOf)
		})
	}
}

func checkResent(t *testing.T, got []rtp.Packet, want []uint16, plain bool, payloadOf func(uint16) []byte) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("resent %d packets, want %d (%v)", len(got), len(want), want)
	}
	for i, p := range got {
		orig, payload := p.SequenceNumber, p.Payload
		if !plain {
			if p.SSRC != testRTXSSRC || p.PayloadType != testRTXPT {
				t.Errorf("resend %d: ssrc %d pt %d, want the RTX stream's", i, p.SSRC, p.PayloadType)
			}
			if i > 0 && p.SequenceNumber != got[i-1].SequenceNumber+1 {
				t.Errorf("resend %d: RTX sequence %d does not follow %d", i, p.SequenceNumber, got[i-1].SequenceNumber)
			}
			orig, payload = binary.BigEndian.Uint16(p.Payload), p.Payload[2:]
		} else if p.SSRC != testSSRC || p.PayloadType != testPT {
			t.Errorf("resend %d: ssrc %d pt %d, want the media stream's", i, p.SSRC, p.PayloadType)
		}
		if orig != want[i] || !bytes.Equal(payload, payloadOf(orig)) || p.Timestamp != 90*uint32(orig) {
			t.Errorf("resend %d: original %d ts %d payload %x, want %d", i, orig, p.Timestamp, payload, want[i])
		}
		if p.Marker != (orig%2 == 0) || !slices.Equal(p.CSRC, csrcOf(orig)) || p.Padding || len(p.Extensions) != 0 {
			t.Errorf("resend %d: marker %v csrc %v padding %v extensions %d, want the original's header",
				i, p.Marker, p.CSRC, p.Padding, len(p.Extensions))
		}
	}
}

// csrcOf gives every third test packet a contributing source.
func csrcOf(seq uint16) []uint32 {
	if seq%3 != 0 {
		return nil
	}
	return []uint32{0x1000 + uint32(seq)}
}

// TestNackResponderAnswersOnlyLinkedNackStreams checks that NACKs are
// answered only for streams that negotiated NACK and were linked to a
// history, and not after unlink.
func TestNackResponderAnswersOnlyLinkedNackStreams(t *testing.T) {
	nackFB := []interceptor.RTCPFeedback{{Type: "nack"}}
	for _, tc := range []struct {
		name     string
		feedback []interceptor.RTCPFeedback
		link     bool
		unlink   bool
		want     int
	}{
		{"linked with nack", nackFB, true, false, 1},
		{"no nack negotiated", nil, true, false, 0},
		{"not linked", nackFB, false, false, 0},
		{"unlinked", nackFB, true, true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := newNackResponder(time.Now, nil)
			history := &trackHistory{}
			history.record(&rtp.Header{SequenceNumber: 7}, []byte{7})
			if tc.link {
				resp.link(testSSRC, history)
			}
			below := &recordingWriter{}
			resp.BindLocalStream(&interceptor.StreamInfo{SSRC: testSSRC, PayloadType: testPT, RTCPFeedback: tc.feedback}, below)
			if tc.unlink {
				resp.unlink(testSSRC)
			}
			b, err := (&rtcp.TransportLayerNack{MediaSSRC: testSSRC, Nacks: rtcp.NackPairsFromSequenceNumbers([]uint16{7})}).Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := resp.BindRTCPReader(&nackReader{packets: [][]byte{b}}).Read(make([]byte, 1500), nil); err != nil {
				t.Fatal(err)
			}
			if got := len(below.take()); got != tc.want {
				t.Fatalf("resent %d packets, want %d", got, tc.want)
			}
		})
	}
}

// BenchmarkNackRecord is what keeping one forwarded packet for NACKs
// costs: the library's copying responder per viewer, the track's history
// once for all of them.
func BenchmarkNackRecord(b *testing.B) {
	h := &rtp.Header{Version: 2, SSRC: testSSRC, PayloadType: testPT}
	payload := make([]byte, 1000)
	b.Run("copying-per-viewer", func(b *testing.B) {
		factory, err := nack.NewResponderInterceptor(nack.ResponderSize(nackHistory))
		if err != nil {
			b.Fatal(err)
		}
		resp, err := factory.NewInterceptor("")
		if err != nil {
			b.Fatal(err)
		}
		info := &interceptor.StreamInfo{SSRC: testSSRC, SSRCRetransmission: testRTXSSRC,
			PayloadTypeRetransmission: testRTXPT, RTCPFeedback: []interceptor.RTCPFeedback{{Type: "nack"}}}
		w := resp.BindLocalStream(info, interceptor.RTPWriterFunc(
			func(_ *rtp.Header, p []byte, _ interceptor.Attributes) (int, error) { return len(p), nil }))
		b.ReportAllocs()
		for b.Loop() {
			h.SequenceNumber++
			if _, err := w.Write(h, payload, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("track-history-per-packet", func(b *testing.B) {
		history := &trackHistory{}
		b.ReportAllocs()
		for b.Loop() {
			h.SequenceNumber++
			history.record(h, payload)
		}
	})
}

// TestSentPacketFitsACacheLine keeps a history slot within one 64-byte
// cache line.
func TestSentPacketFitsACacheLine(t *testing.T) {
	if size := unsafe.Sizeof(sentPacket{}); size > 64 {
		t.Fatalf("sentPacket is %d bytes, want at most 64", size)
	}
}

// TestNackStormIsBudgeted checks that a viewer asking again and again for
// the whole history gets at most the burst plus the refill rate, not a
// resend of everything every resendInterval.
func TestNackStormIsBudgeted(t *testing.T) {
	now := time.Unix(1000, 0)
	resp := newNackResponder(func() time.Time { return now }, nil)
	history := &trackHistory{}
	resp.link(testSSRC, history)
	below := &recordingWriter{}
	resp.BindLocalStream(&interceptor.StreamInfo{SSRC: testSSRC, PayloadType: testPT, SSRCRetransmission: testRTXSSRC,
		PayloadTypeRetransmission: testRTXPT, RTCPFeedback: []interceptor.RTCPFeedback{{Type: "nack"}}}, below)
	all := make([]uint16, nackHistory)
	for i := range all {
		all[i] = uint16(i)
		history.record(&rtp.Header{SequenceNumber: uint16(i)}, []byte{byte(i)})
	}
	b, err := (&rtcp.TransportLayerNack{MediaSSRC: testSSRC, Nacks: rtcp.NackPairsFromSequenceNumbers(all)}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	const rounds = 20
	reader := &nackReader{}
	for range rounds {
		reader.packets = append(reader.packets, b)
	}
	r := resp.BindRTCPReader(reader)
	for range rounds {
		if _, _, err := r.Read(make([]byte, 1500), nil); err != nil {
			t.Fatal(err)
		}
		now = now.Add(resendInterval)
	}
	elapsed := time.Duration(rounds-1) * resendInterval
	budget := resendBurst + int(elapsed.Seconds()*resendRate) + 1
	if got := len(below.take()); got > budget || got < resendBurst {
		t.Fatalf("resent %d packets for %d NACKs of the whole history over %v, want %d to %d",
			got, rounds, elapsed, resendBurst, budget)
	}
}
