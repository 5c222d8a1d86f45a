package loadgen

import (
	"net"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/transport/v5/stdnet"
)

func TestArrivals(t *testing.T) {
	rtpPacket := func(ssrc uint32, seq uint16) []byte {
		b, err := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: seq, SSRC: ssrc},
			Payload: []byte{1, 2, 3}}).Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	sr, err := (&rtcp.SenderReport{SSRC: 7}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	at := time.Unix(100, 5)
	for _, tc := range []struct {
		name      string
		datagrams [][]byte
		ssrc      uint32
		seq       uint16
		found     bool
	}{
		{"rtp", [][]byte{rtpPacket(7, 42)}, 7, 42, true},
		{"other ssrc", [][]byte{rtpPacket(8, 42)}, 7, 42, false},
		{"rtcp is not rtp", [][]byte{sr}, 7, 0, false},
		{"stun", [][]byte{append([]byte{0x00, 0x01, 0x00, 0x00}, make([]byte, 16)...)}, 0, 0, false},
		{"dtls", [][]byte{append([]byte{22, 0xfe, 0xfd}, make([]byte, 20)...)}, 0, 0, false},
		{"short", [][]byte{{0x80, 96, 0, 42}}, 0, 42, false},
		{"slot reused by a later packet", [][]byte{rtpPacket(7, 42), rtpPacket(7, 42+arrivalSlots)}, 7, 42, false},
		{"wrap", [][]byte{rtpPacket(7, 65535), rtpPacket(7, 0)}, 7, 65535, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var a arrivals
			for _, d := range tc.datagrams {
				a.note(d, at)
			}
			got, ok := a.lookup(tc.ssrc, tc.seq)
			if ok != tc.found || (ok && !got.Equal(at)) {
				t.Fatalf("lookup = %v, %v; want found %v at %v", got, ok, tc.found, at)
			}
		})
	}
	var none *arrivals
	if _, ok := none.lookup(7, 42); ok {
		t.Fatal("a nil arrivals found a packet")
	}
}

// FuzzArrivalsNote feeds arbitrary datagrams to the socket-side parser.
func FuzzArrivalsNote(f *testing.F) {
	f.Add([]byte{0x80, 96, 0, 1, 0, 0, 0, 0, 0, 0, 0, 7})
	f.Add([]byte{0x80, 200, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		var a arrivals
		a.note(b, time.Unix(1, 0))
	})
}

// TestArrivalConnNotesBothWays sends an RTP packet between two sockets of
// an arrivalNet and finds it in the sender's out log (at the sender's
// clock) and the receiver's in log (at the kernel's receive time).
func TestArrivalConnNotesBothWays(t *testing.T) {
	std, err := stdnet.NewNet()
	if err != nil {
		t.Fatal(err)
	}
	at := time.Unix(7, 0)
	sender := &arrivalNet{Net: std, out: &arrivals{}, now: func() time.Time { return at }}
	receiver := &arrivalNet{Net: std, in: &arrivals{}, now: func() time.Time { return at.Add(time.Millisecond) }}
	tx, err := sender.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	rx, err := receiver.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	pkt, err := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: 9, SSRC: 5}, Payload: []byte{1}}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	if _, err := tx.WriteTo(pkt, rx.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	_ = rx.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := rx.ReadFrom(make([]byte, 1500)); err != nil {
		t.Fatal(err)
	}
	after := time.Now()
	if got, ok := sender.out.lookup(5, 9); !ok || !got.Equal(at) {
		t.Errorf("sender's out log: %v %v, want %v", got, ok, at)
	}
	// The receiver's time is the kernel's receive timestamp, not its clock.
	if got, ok := receiver.in.lookup(5, 9); !ok || got.Before(before) || got.After(after) {
		t.Errorf("receiver's in log: %v %v, want the kernel's receive time in [%v, %v]", got, ok, before, after)
	}
}
