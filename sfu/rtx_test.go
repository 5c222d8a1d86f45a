package sfu

import (
	"sync"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// seqViewer is a pion client that remembers the sequence numbers it read
// on its first video track.
type seqViewer struct {
	viewer
	mu   sync.Mutex
	ssrc webrtc.SSRC
	seqs map[uint16]int // times read
}

func (v *seqViewer) snapshot() (webrtc.SSRC, map[uint16]int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make(map[uint16]int, len(v.seqs))
	for k, n := range v.seqs {
		out[k] = n
	}
	return v.ssrc, out
}

// readEveryTrack reads every track the viewer's client gets until it
// ends, handing each packet to on.
func readEveryTrack(v *viewer, on func(*webrtc.TrackRemote, *rtp.Packet)) {
	v.pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		v.wg.Add(1)
		go func() {
			defer v.wg.Done()
			for {
				p, _, err := tr.ReadRTP()
				if err != nil {
					return
				}
				on(tr, p)
			}
		}()
	})
}

// TestNackAnsweredWithRTX checks that a viewer's NACK for a packet it
// already got is answered over the RTX stream: the client's SRTP replay
// check would drop the same sequence number again on the media SSRC, so
// a second copy only arrives repaired from RTX.
func TestNackAnsweredWithRTX(t *testing.T) {
	s := newTestSFU(t, nil)
	v := &seqViewer{viewer: viewer{pc: newClientPC(t), peer: newFakePeer()}, seqs: map[uint16]int{}}
	var err error
	v.conn, err = s.Join(JoinRequest{ChannelID: "ch", ConnectionID: NewID(), Role: RecvOnly, Peer: v.peer})
	if err != nil {
		t.Fatal(err)
	}
	readEveryTrack(&v.viewer, func(tr *webrtc.TrackRemote, p *rtp.Packet) {
		v.mu.Lock()
		v.ssrc = tr.SSRC()
		v.seqs[p.SequenceNumber]++
		v.mu.Unlock()
	})
	connect(t, v.conn, v.pc, nil)
	t.Cleanup(func() { _ = v.pc.Close(); v.wg.Wait() })

	pubConn, err := s.Join(JoinRequest{ChannelID: "ch", ConnectionID: NewID(), Role: SendRecv, Video: true, Peer: newFakePeer()})
	if err != nil {
		t.Fatal(err)
	}
	startPublisher(t, pubConn)
	v.reAnswer(t, 10*time.Second)
	eventually(t, "forwarded packets", 10*time.Second, func() bool { _, seqs := v.snapshot(); return len(seqs) >= 20 })

	ssrc, seqs := v.snapshot()
	var lost []uint16
	for seq := range seqs {
		if lost = append(lost, seq); len(lost) == 3 {
			break
		}
	}
	nack := &rtcp.TransportLayerNack{SenderSSRC: 1, MediaSSRC: uint32(ssrc), Nacks: rtcp.NackPairsFromSequenceNumbers(lost)}
	if err := v.pc.WriteRTCP([]rtcp.Packet{nack}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "retransmissions", 10*time.Second, func() bool {
		_, seqs := v.snapshot()
		for _, seq := range lost {
			if seqs[seq] < 2 {
				return false
			}
		}
		return true
	})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestNoRTXViewerGetsPlainRetransmissions: a viewer whose answers list no
// RTX (pion's engine without it, some native stacks) is answered on the
// media stream itself: its forwarded stream has no RTX payload type, so
// the responder never sends it an RTX packet it would drop.
func TestNoRTXViewerGetsPlainRetransmissions(t *testing.T) {
	s := newTestSFU(t, nil)
	v := &viewer{pc: newRoomPC(t, []Codec{VP8}), peer: newFakePeer()}
	var err error
	v.conn, err = s.Join(JoinRequest{ChannelID: "ch", ConnectionID: NewID(), Role: RecvOnly, Peer: v.peer})
	if err != nil {
		t.Fatal(err)
	}
	readEveryTrack(v, func(*webrtc.TrackRemote, *rtp.Packet) {})
	connect(t, v.conn, v.pc, nil)
	t.Cleanup(func() { _ = v.pc.Close(); v.wg.Wait() })
	pubConn, err := s.Join(JoinRequest{ChannelID: "ch", ConnectionID: NewID(), Role: SendRecv, Video: true, Peer: newFakePeer()})
	if err != nil {
		t.Fatal(err)
	}
	startPublisher(t, pubConn)
	v.reAnswer(t, 10*time.Second)
	var stream *sentStream
	eventually(t, "the forwarded stream bound", 10*time.Second, func() bool {
		v.conn.nack.mu.Lock()
		defer v.conn.nack.mu.Unlock()
		for _, st := range v.conn.nack.streams {
			stream = st
		}
		return stream != nil
	})
	if stream.rtxPT != 0 || stream.rtxSSRC != 0 {
		t.Fatalf("a viewer without RTX is sent RTX: payload type %d, SSRC %d", stream.rtxPT, stream.rtxSSRC)
	}
}
