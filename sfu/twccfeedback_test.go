package sfu

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kiroku-sfu/kiroku/sfu/srtpout"
	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
)

// rtcpLog is an RTCP writer that keeps what it is given.
type rtcpLog struct {
	mu   sync.Mutex
	pkts []rtcp.Packet
}

func (l *rtcpLog) Write(pkts []rtcp.Packet, _ interceptor.Attributes) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pkts = append(l.pkts, pkts...)
	return len(pkts), nil
}

// feedbackSeqs returns the transport-wide sequence numbers reported
// received so far.
func (l *rtcpLog) feedbackSeqs() map[uint16]bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[uint16]bool{}
	for _, p := range l.pkts {
		cc, ok := p.(*rtcp.TransportLayerCC)
		if !ok {
			continue
		}
		seq := cc.BaseSequenceNumber
		for _, c := range cc.PacketChunks {
			var symbols []uint16
			switch c := c.(type) {
			case *rtcp.RunLengthChunk:
				for range c.RunLength {
					symbols = append(symbols, c.PacketStatusSymbol)
				}
			case *rtcp.StatusVectorChunk:
				symbols = c.SymbolList
			}
			for _, s := range symbols {
				if s != rtcp.TypeTCCPacketNotReceived && seq-cc.BaseSequenceNumber < cc.PacketStatusCount {
					out[seq] = true
				}
				seq++
			}
		}
	}
	return out
}

// queueReader returns queued packets, one per read.
type queueReader struct{ pkts [][]byte }

func (q *queueReader) Read(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
	p := q.pkts[0]
	q.pkts = q.pkts[1:]
	return copy(b, p), a, nil
}

// TestTWCCFeedback reads packets with transport-wide sequence numbers
// (one lost) through two connections' feedback interceptors and checks
// the shared ticker reports each connection's arrivals to its own
// writer, no lost packet among them, and stops its goroutine once both
// connections closed.
func TestTWCCFeedback(t *testing.T) {
	before := runtime.NumGoroutine()
	ticker := newFeedbackTicker(10 * time.Millisecond)
	factory := twccFeedbackFactory{ticker: ticker, now: time.Now}
	const extID = 5
	info := &interceptor.StreamInfo{SSRC: 1234,
		RTPHeaderExtensions: []interceptor.RTPHeaderExtension{{URI: sdp.TransportCCURI, ID: extID}}}
	var logs [2]rtcpLog
	var fbs [2]*twccFeedback
	for i := range fbs {
		it, err := factory.NewInterceptor("")
		if err != nil {
			t.Fatal(err)
		}
		fbs[i] = it.(*twccFeedback)
		fbs[i].BindRTCPWriter(&logs[i])
		q := &queueReader{}
		for seq := uint16(100); seq < 120; seq++ {
			if seq == 110 {
				continue // lost
			}
			h := rtp.Header{Version: 2, SSRC: 1234, SequenceNumber: seq}
			ext, _ := (&rtp.TransportCCExtension{TransportSequence: seq + uint16(i)*1000}).Marshal()
			if err := h.SetExtension(extID, ext); err != nil {
				t.Fatal(err)
			}
			raw, _ := (&rtp.Packet{Header: h, Payload: []byte{1}}).Marshal()
			q.pkts = append(q.pkts, raw)
		}
		r := fbs[i].BindRemoteStream(info, q)
		buf := make([]byte, 1500)
		for len(q.pkts) > 0 {
			if _, _, err := r.Read(buf, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i := range fbs {
		base := uint16(i) * 1000
		eventually(t, "feedback", 5*time.Second, func() bool { return len(logs[i].feedbackSeqs()) == 19 })
		seqs := logs[i].feedbackSeqs()
		for seq := base + 100; seq < base+120; seq++ {
			if seqs[seq] != (seq != base+110) {
				t.Fatalf("connection %d: sequence number %d reported %v", i, seq, seqs[seq])
			}
		}
	}
	for _, f := range fbs {
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	checkGoroutines(t, before)
}

// TestTWCCFeedbackReportsKernelArrival: a packet read with a kernel
// receive time (srtpout.ArrivalKey, set by the direct path when the
// socket is read in coalesced batches) is reported as arriving then, not
// when it was read: two packets read at the same instant but received
// 30 ms apart are reported 30 ms apart, and one without a time is
// reported at the clock's time.
func TestTWCCFeedbackReportsKernelArrival(t *testing.T) {
	start, read := time.Unix(1000, 0), time.Unix(1001, 0)
	var clock atomic.Pointer[time.Time]
	clock.Store(&start)
	ticker := newFeedbackTicker(10 * time.Millisecond)
	it, err := twccFeedbackFactory{ticker: ticker, now: func() time.Time { return *clock.Load() }}.NewInterceptor("")
	if err != nil {
		t.Fatal(err)
	}
	clock.Store(&read)
	fb := it.(*twccFeedback)
	defer fb.Close()
	var log rtcpLog
	fb.BindRTCPWriter(&log)
	const extID = 5
	info := &interceptor.StreamInfo{SSRC: 1234,
		RTPHeaderExtensions: []interceptor.RTPHeaderExtension{{URI: sdp.TransportCCURI, ID: extID}}}
	arrivals := []time.Time{read.Add(-40 * time.Millisecond), read.Add(-10 * time.Millisecond), {}}
	q := &queueReader{}
	for i := range arrivals {
		h := rtp.Header{Version: 2, SSRC: 1234, SequenceNumber: uint16(i)}
		ext, _ := (&rtp.TransportCCExtension{TransportSequence: uint16(50 + i)}).Marshal()
		if err := h.SetExtension(extID, ext); err != nil {
			t.Fatal(err)
		}
		raw, _ := (&rtp.Packet{Header: h, Payload: []byte{1}}).Marshal()
		q.pkts = append(q.pkts, raw)
	}
	r := fb.BindRemoteStream(info, q)
	buf := make([]byte, 1500)
	for i := range arrivals {
		a := interceptor.Attributes{}
		if !arrivals[i].IsZero() {
			a[srtpout.ArrivalKey{}] = &arrivals[i]
		}
		if _, _, err := r.Read(buf, a); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "feedback", 5*time.Second, func() bool { return len(log.feedbackSeqs()) == 3 })
	log.mu.Lock()
	defer log.mu.Unlock()
	var deltas []int64
	for _, p := range log.pkts {
		if cc, ok := p.(*rtcp.TransportLayerCC); ok {
			for _, d := range cc.RecvDeltas {
				deltas = append(deltas, d.Delta)
			}
		}
	}
	if len(deltas) != 3 || deltas[1] != 30000 || deltas[2] != 10000 {
		t.Fatalf("receive deltas %v µs, want the second 30000 after the first and the third 10000 after it", deltas)
	}
}
