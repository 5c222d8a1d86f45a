package sfu

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// TestForwardingEachCodec publishes one video track of each codec a
// connect may name from a pion client and checks that a viewer of the
// same codec is offered it and receives it with that codec: the
// negotiation (payload types, fmtp, RTX) of every engine, H.265 included,
// which no browser in the tests can send.
func TestForwardingEachCodec(t *testing.T) {
	for _, c := range []Codec{VP8, VP9, AV1, H264, H265} {
		t.Run(string(c), func(t *testing.T) {
			vc, err := videoCodec(c)
			if err != nil {
				t.Fatal(err)
			}
			s := newTestSFUWith(t, func(cfg *Config) { cfg.DefaultVideoCodec = c })
			defer s.Close()

			viewerPC := newClientPC(t)
			vpeer := newFakePeer()
			viewerConn, err := s.Join(JoinRequest{ChannelID: "ch", ConnectionID: NewID(), Role: RecvOnly,
				VideoCodec: c, Peer: vpeer})
			if err != nil {
				t.Fatal(err)
			}
			var got atomic.Int64
			var mime atomic.Value
			viewerPC.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
				mime.Store(tr.Codec().MimeType)
				for {
					if _, _, err := tr.ReadRTP(); err != nil {
						return
					}
					got.Add(1)
				}
			})
			connect(t, viewerConn, viewerPC, nil)

			pubConn, err := s.Join(JoinRequest{ChannelID: "ch", ConnectionID: NewID(), Role: SendOnly, Video: true,
				VideoCodec: c, Peer: newFakePeer()})
			if err != nil {
				t.Fatal(err)
			}
			pubPC := newClientPC(t)
			track, err := webrtc.NewTrackLocalStaticRTP(vc.RTPCodecCapability, "cam", "client-stream")
			if err != nil {
				t.Fatal(err)
			}
			connect(t, pubConn, pubPC, func() {
				if _, err := pubPC.AddTrack(track); err != nil {
					t.Fatalf("client add track: %v", err)
				}
			})
			stop := make(chan struct{})
			defer close(stop)
			go func() {
				tick := time.NewTicker(10 * time.Millisecond)
				defer tick.Stop()
				for seq := uint16(0); ; seq++ {
					select {
					case <-stop:
						return
					case <-tick.C:
					}
					_ = track.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq,
						Timestamp: uint32(seq) * 3000, Marker: true}, Payload: []byte{0x10, 0x01, 0x02, 0x03}})
				}
			}()

			select {
			case sdp := <-vpeer.reOffers:
				if !strings.Contains(sdp, vc.MimeType[len("video/"):]+"/90000") {
					t.Fatalf("re-offer lacks %s:\n%s", vc.MimeType, sdp)
				}
				if err := viewerConn.SetAnswer(answer(t, viewerPC, sdp)); err != nil {
					t.Fatalf("re-answer: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("no re-offer")
			}
			eventually(t, "forwarded packets", 10*time.Second, func() bool { return got.Load() >= 10 })
			if m, _ := mime.Load().(string); !strings.EqualFold(m, vc.MimeType) {
				t.Fatalf("viewer got codec %q, want %s", m, vc.MimeType)
			}
			_ = pubPC.Close()
			_ = viewerPC.Close()
		})
	}
}
