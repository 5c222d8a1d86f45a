package sfu

import (
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// nacked returns the sequence numbers NACKed for ssrc in the last flush
// that sent any, and how many NACK packets were written in all.
func (l *rtcpLog) nacked(ssrc uint32) ([]uint16, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var last []uint16
	count := 0
	for _, p := range l.pkts {
		if n, ok := p.(*rtcp.TransportLayerNack); ok && n.MediaSSRC == ssrc {
			count++
			last = last[:0]
			for _, pair := range n.Nacks {
				last = append(last, pair.PacketList()...)
			}
		}
	}
	return last, count
}

// TestNACKFeedback reads a stream with two packets lost through two
// connections' NACK interceptors: the shared ticker asks each publisher
// for its own lost packets until they arrive, asks nothing for a stream
// that did not negotiate NACK, and stops once both connections closed.
func TestNACKFeedback(t *testing.T) {
	before := runtime.NumGoroutine()
	ticker := newFeedbackTicker(10 * time.Millisecond)
	factory := nackFeedbackFactory{ticker: ticker}
	video := &interceptor.StreamInfo{SSRC: 1234, RTCPFeedback: []interceptor.RTCPFeedback{{Type: "nack"}, {Type: "nack", Parameter: "pli"}}}
	audio := &interceptor.StreamInfo{SSRC: 99}
	packet := func(ssrc uint32, seq uint16) []byte {
		raw, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, SSRC: ssrc, SequenceNumber: seq}, Payload: []byte{1}}).Marshal()
		return raw
	}
	var logs [2]rtcpLog
	var fbs [2]*nackFeedback
	var late [2]*queueReader
	var readers [2]interceptor.RTPReader
	buf := make([]byte, 1500)
	for i := range fbs {
		it, err := factory.NewInterceptor("")
		if err != nil {
			t.Fatal(err)
		}
		fbs[i] = it.(*nackFeedback)
		fbs[i].BindRTCPWriter(&logs[i])
		lost := []uint16{105 + uint16(i), 110}
		q, a := &queueReader{}, &queueReader{}
		for seq := uint16(100); seq < 120; seq++ {
			a.pkts = append(a.pkts, packet(99, seq))
			if !slices.Contains(lost, seq) {
				q.pkts = append(q.pkts, packet(1234, seq))
			}
		}
		readers[i] = fbs[i].BindRemoteStream(video, q)
		ra := fbs[i].BindRemoteStream(audio, a)
		for len(q.pkts) > 0 {
			if _, _, err := readers[i].Read(buf, nil); err != nil {
				t.Fatal(err)
			}
		}
		for len(a.pkts) > 0 {
			if _, _, err := ra.Read(buf, nil); err != nil {
				t.Fatal(err)
			}
		}
		late[i] = q
		q.pkts = [][]byte{packet(1234, lost[0]), packet(1234, lost[1])}
	}
	for i := range fbs {
		want := []uint16{105 + uint16(i), 110}
		eventually(t, "NACKs", 5*time.Second, func() bool { _, n := logs[i].nacked(1234); return n >= 2 })
		if got, _ := logs[i].nacked(1234); !slices.Equal(got, want) {
			t.Fatalf("connection %d: NACKed %v, want %v", i, got, want)
		}
		if _, n := logs[i].nacked(99); n != 0 {
			t.Fatalf("connection %d: %d NACKs for a stream without NACK feedback", i, n)
		}
		// The resent packets arrive: the asking stops.
		for len(late[i].pkts) > 0 {
			if _, _, err := readers[i].Read(buf, nil); err != nil {
				t.Fatal(err)
			}
		}
		_, settled := logs[i].nacked(1234)
		time.Sleep(50 * time.Millisecond) // five intervals
		if _, n := logs[i].nacked(1234); n > settled+1 {
			t.Fatalf("connection %d: %d more NACKs after the packets arrived", i, n-settled)
		}
	}
	for _, f := range fbs {
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	checkGoroutines(t, before)
}

// TestNACKFeedbackCountsRepairs loses two packets and brings one back on
// the RTX stream (its original sequence number first in the payload, and
// padding after it): only the other is still asked for. A padding-only
// RTX packet (a bandwidth probe) repairs nothing.
func TestNACKFeedbackCountsRepairs(t *testing.T) {
	ticker := newFeedbackTicker(10 * time.Millisecond)
	it, err := nackFeedbackFactory{ticker: ticker}.NewInterceptor("")
	if err != nil {
		t.Fatal(err)
	}
	fb := it.(*nackFeedback)
	defer fb.Close()
	var log rtcpLog
	fb.BindRTCPWriter(&log)
	video := &interceptor.StreamInfo{SSRC: 1234, SSRCRetransmission: 4321, PayloadTypeRetransmission: 97,
		RTCPFeedback: []interceptor.RTCPFeedback{{Type: "nack"}}}
	rtx := &interceptor.StreamInfo{SSRC: 4321, PayloadType: 97}
	q, rq := &queueReader{}, &queueReader{}
	for seq := uint16(200); seq < 220; seq++ {
		if seq != 205 && seq != 210 {
			raw, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, SSRC: 1234, SequenceNumber: seq}, Payload: []byte{1}}).Marshal()
			q.pkts = append(q.pkts, raw)
		}
	}
	repair, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, SSRC: 4321, PayloadType: 97, SequenceNumber: 1,
		Padding: true}, Payload: []byte{0, 210, 0xAA}, PaddingSize: 4}).Marshal()
	probe, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, SSRC: 4321, PayloadType: 97, SequenceNumber: 2,
		Padding: true}, PaddingSize: 200}).Marshal()
	rq.pkts = [][]byte{repair, probe}
	r := fb.BindRemoteStream(video, q)
	rr := fb.BindRemoteStream(rtx, rq)
	buf := make([]byte, 1500)
	for len(q.pkts) > 0 {
		if _, _, err := r.Read(buf, nil); err != nil {
			t.Fatal(err)
		}
	}
	for len(rq.pkts) > 0 {
		if _, _, err := rr.Read(buf, nil); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "a NACK", 5*time.Second, func() bool { _, n := log.nacked(1234); return n > 0 })
	if got, _ := log.nacked(1234); !slices.Equal(got, []uint16{205}) {
		t.Fatalf("NACKed %v, want [205]: 210 came back on the RTX stream", got)
	}
	if _, n := log.nacked(4321); n != 0 {
		t.Fatalf("%d NACKs for the RTX stream itself", n)
	}
	fb.UnbindRemoteStream(video)
	fb.UnbindRemoteStream(rtx)
	fb.mu.Lock()
	left := len(fb.streams) + len(fb.repairs)
	fb.mu.Unlock()
	if left != 0 {
		t.Fatalf("%d streams left after unbinding", left)
	}
}
