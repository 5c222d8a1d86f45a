package sfu

import (
	"errors"
	"testing"
	"time"
)

// TestReAnswerAfterClose: a re-answer that arrives after the connection
// closed (the client was leaving while it answered) fails with ErrClosed,
// which the signaling layer ignores, not with an internal error.
func TestReAnswerAfterClose(t *testing.T) {
	s := newTestSFU(t, nil)
	defer s.Close()
	v := startViewer(t, s, "")
	pubConn, err := s.Join(JoinRequest{ChannelID: "ch", ConnectionID: NewID(), Role: SendRecv, Video: true, Peer: newFakePeer()})
	if err != nil {
		t.Fatal(err)
	}
	startPublisher(t, pubConn)
	var offer string
	select {
	case offer = <-v.peer.reOffers:
	case <-time.After(10 * time.Second):
		t.Fatal("no re-offer")
	}
	ans := answer(t, v.pc, offer)
	if err := v.conn.Close(); err != nil {
		t.Fatal(err)
	}
	if err := v.conn.SetAnswer(ans); !errors.Is(err, ErrClosed) {
		t.Fatalf("re-answer after close: %v, want ErrClosed", err)
	}
}
