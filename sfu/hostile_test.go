package sfu

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// TestUnreadablePacketsKeepForwarding has a publisher send, amid its
// stream, packets the SFU cannot read although SRTP authenticates them:
// payload types it never negotiated. Each is counted and skipped;
// forwarding goes on (before, the track's read loop ended at the first
// one and the viewers' video froze for good).
func TestUnreadablePacketsKeepForwarding(t *testing.T) {
	s := newTestSFU(t, nil)
	v := startViewer(t, s, "")
	pubID := NewID()
	pubConn, err := s.Join(JoinRequest{ChannelID: "ch", ConnectionID: pubID, Role: SendRecv, Video: true, Peer: newFakePeer()})
	if err != nil {
		t.Fatal(err)
	}
	pub := startPublisher(t, pubConn)
	v.reAnswer(t, 10*time.Second)
	eventually(t, "forwarded packets", 10*time.Second, func() bool { return v.count(pubID) >= 20 })
	w := pub.raw.Load()
	if w == nil {
		t.Fatal("publisher track never bound")
	}
	const bad = 10
	for i := range bad {
		h := rtp.Header{Version: 2, PayloadType: 77 + uint8(i%3), SequenceNumber: uint16(40000 + i),
			SSRC: pub.ssrc.Load()}
		if _, err := (*w).WriteRTP(&h, []byte{1, 2, 3, 4}); err != nil {
			t.Fatalf("send packet with payload type %d: %v", h.PayloadType, err)
		}
	}
	eventually(t, "unreadable packets counted", 10*time.Second, func() bool { return s.Stats().MalformedPackets >= bad })
	after := v.count(pubID)
	eventually(t, "forwarding after unreadable packets", 10*time.Second, func() bool { return v.count(pubID) >= after+20 })
}

// TestReadContinues checks which read errors end a read loop: the end of
// a stream and closing do; anything else is one unreadable packet,
// skipped, with a pause once errors keep coming.
func TestReadContinues(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    error
		closed bool
		want   bool
	}{
		{"end of stream", io.EOF, false, false},
		{"closed pipe", io.ErrClosedPipe, false, false},
		{"closed socket", fmt.Errorf("read: %w", net.ErrClosed), false, false},
		{"malformed packet", errors.New("rtp: invalid padding"), false, true},
		{"malformed packet while closing", errors.New("rtp: invalid padding"), true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestSFU(t, nil)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			c := &Connection{sfu: s, ctx: ctx}
			if tc.closed {
				cancel()
			}
			failures := 0
			if got := c.readContinues(tc.err, &failures); got != tc.want {
				t.Fatalf("readContinues(%v) = %v, want %v", tc.err, got, tc.want)
			}
			if want := uint64(map[bool]int{true: 1}[tc.want]); s.Stats().MalformedPackets != want {
				t.Fatalf("counted %d malformed packets, want %d", s.Stats().MalformedPackets, want)
			}
		})
	}
	t.Run("errors in a row pause", func(t *testing.T) {
		s := newTestSFU(t, nil)
		c := &Connection{sfu: s, ctx: context.Background()}
		failures := readBackoff
		start := time.Now()
		for range 5 {
			if !c.readContinues(errors.New("bad"), &failures) {
				t.Fatal("loop ended on a malformed packet")
			}
		}
		if d := time.Since(start); d < 5*time.Millisecond {
			t.Fatalf("5 errors past the backoff took %v, want at least 5 ms", d)
		}
	})
}
