package sfu

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// countingHistory counts the lookups a responder makes: for a simulcast
// viewer each one maps the number to its layer and rewrites the packet.
type countingHistory struct {
	trackHistory
	lookups int
}

func (h *countingHistory) lookup(seq uint16) (sentPacket, bool) {
	h.lookups++
	return h.trackHistory.lookup(seq)
}

// resendRig is a responder answering one RTX stream whose history holds
// sequence numbers 0 to nackHistory-1, on a clock the test moves.
type resendRig struct {
	sent    atomic.Uint64 // retransmissions counted
	now     time.Time
	resp    *nackResponder
	history *countingHistory
	below   *recordingWriter
}

func newResendRig() *resendRig {
	r := &resendRig{now: time.Unix(1000, 0), history: &countingHistory{}, below: &recordingWriter{}}
	r.resp = newNackResponder(func() time.Time { return r.now }, &r.sent)
	r.resp.link(testSSRC, r.history)
	r.resp.BindLocalStream(&interceptor.StreamInfo{SSRC: testSSRC, PayloadType: testPT, SSRCRetransmission: testRTXSSRC,
		PayloadTypeRetransmission: testRTXPT, RTCPFeedback: []interceptor.RTCPFeedback{{Type: "nack"}}}, r.below)
	for i := range uint16(nackHistory) {
		r.history.record(&rtp.Header{SequenceNumber: i, Timestamp: 90 * uint32(i)}, []byte{byte(i), 1, 2, 3})
	}
	return r
}

// nack answers a NACK of seqs at the rig's clock, then moves it by gap.
func (r *resendRig) nack(seqs []uint16, gap time.Duration) {
	r.resp.answer(&rtcp.TransportLayerNack{MediaSSRC: testSSRC, Nacks: rtcp.NackPairsFromSequenceNumbers(seqs)})
	r.now = r.now.Add(gap)
}

func seqRange(n int) []uint16 {
	out := make([]uint16, n)
	for i := range out {
		out[i] = uint16(i)
	}
	return out
}

// TestUnanswerableNackSkipsLookup: a NACK the responder will not answer
// (resent moments ago, budget spent) is dropped before the history is
// read.
func TestUnanswerableNackSkipsLookup(t *testing.T) {
	for _, tc := range []struct {
		name        string
		first, then []uint16
		gap         time.Duration
		wantLookups int // by the second NACK
	}{
		{"resent moments ago", []uint16{5}, []uint16{5}, time.Millisecond, 0},
		// 50 ms refill 50 retransmissions of the 512 asked for again.
		{"budget spent", seqRange(nackHistory), seqRange(nackHistory), 50 * time.Millisecond, 50},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newResendRig()
			r.nack(tc.first, tc.gap)
			before := r.history.lookups
			r.nack(tc.then, 0)
			if got := r.history.lookups - before; got > tc.wantLookups {
				t.Fatalf("the second NACK read the history %d times, want at most %d", got, tc.wantLookups)
			}
		})
	}
}

// TestNackRepeatsBackOff: a viewer that asks for one packet every 100 ms
// for 5 s (pion's NACK generator, which never sees RTX-repaired packets)
// gets it a dozen times, not fifty; a viewer asking again one interval
// after a retransmission (a browser whose retransmission was lost) gets
// it again at once.
func TestNackRepeatsBackOff(t *testing.T) {
	r := newResendRig()
	for range 50 {
		r.nack([]uint16{7}, 100*time.Millisecond)
	}
	if got := len(r.below.take()); got > 12 || got < 5 {
		t.Fatalf("a packet NACKed every 100 ms for 5 s was resent %d times, want 5 to 12", got)
	}
	r = newResendRig()
	for range 3 {
		r.nack([]uint16{9}, resendInterval)
	}
	if got := len(r.below.take()); got != 2 {
		t.Fatalf("NACKs one interval apart got %d retransmissions, want 2 (the third waits twice as long)", got)
	}
}

// TestNackAnswerAllocatesNothing: answering a NACK with RTX builds the
// packet in the stream's own buffers.
func TestNackAnswerAllocatesNothing(t *testing.T) {
	r := newResendRig()
	nack := &rtcp.TransportLayerNack{MediaSSRC: testSSRC, Nacks: rtcp.NackPairsFromSequenceNumbers([]uint16{1, 2, 3, 20})}
	w := &countingWriter{}
	r.resp.streams[testSSRC].writer = w
	allocs := testing.AllocsPerRun(100, func() {
		r.resp.answer(nack)
		r.now = r.now.Add(time.Second)
	})
	if allocs != 0 || w.n == 0 {
		t.Fatalf("answering a NACK allocated %v times (%d packets written), want none", allocs, w.n)
	}
}

// countingWriter counts the packets written below the responder.
type countingWriter struct{ n int }

func (w *countingWriter) Write(_ *rtp.Header, payload []byte, _ interceptor.Attributes) (int, error) {
	w.n++
	return len(payload), nil
}

// TestNackRetransmissionsCounted: every retransmission written is counted
// (the SFU's total behind kiroku_nack_retransmissions_total), and a NACK
// not answered is not.
func TestNackRetransmissionsCounted(t *testing.T) {
	r := newResendRig()
	r.nack([]uint16{1, 2, 3}, time.Millisecond)
	if got, written := r.sent.Load(), uint64(len(r.below.take())); got != 3 || written != 3 {
		t.Fatalf("counted %d, written %d, want 3 and 3", got, written)
	}
	r.nack([]uint16{1}, time.Millisecond) // resent a moment ago: not again
	if got := r.sent.Load(); got != 3 {
		t.Fatalf("counted %d after a repeat inside the back-off, want 3", got)
	}
}
