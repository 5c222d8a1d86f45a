package sfu

import (
	"encoding/binary"
	"fmt"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
	"github.com/pion/webrtc/v4"
)

// Forwarding benchmark: N pion publishers and M pion viewers on 127.0.0.1
// in this process. Each iteration sends packetsPerRun packets per
// publisher at packetRate and reports, per forwarded packet, the process
// CPU time (SFU and in-process clients together) and the p50/p99 delay
// from the publisher's write to the viewer's read. The floor sub-benchmark
// measures, in the same run, SRTP encryption plus a kernel UDP send of
// one packet: the least any forwarder pays per outgoing packet. Compare
// the two within one run only; these machines are shared and noisy.
const (
	packetsPerRun = 500
	packetRate    = 1000 // per publisher per second
	payloadBytes  = 1000
)

// BenchmarkForward runs the floor and three publisher/viewer loads.
func BenchmarkForward(b *testing.B) {
	b.Run("floor", benchFloor)
	for _, tc := range []struct{ pubs, viewers int }{{1, 4}, {4, 4}, {4, 8}} {
		b.Run(fmt.Sprintf("pubs=%d/viewers=%d", tc.pubs, tc.viewers), func(b *testing.B) {
			benchForward(b, tc.pubs, tc.viewers)
		})
	}
}

// cpuTime is the process's user plus system CPU time.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchFloor encrypts and sends packets over loopback UDP.
func benchFloor(b *testing.B) {
	key, salt := make([]byte, 16), make([]byte, 14)
	ctx, err := srtp.CreateContext(key, salt, srtp.ProtectionProfileAes128CmHmacSha1_80)
	if err != nil {
		b.Fatal(err)
	}
	rx, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer rx.Close()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		buf := make([]byte, 1500)
		for {
			if _, err := rx.Read(buf); err != nil {
				return
			}
		}
	}()
	tx, err := net.DialUDP("udp4", nil, rx.LocalAddr().(*net.UDPAddr))
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Close()
	pkt := &rtp.Packet{Header: rtp.Header{Version: 2, SSRC: 1}, Payload: make([]byte, payloadBytes)}
	out := make([]byte, 0, 1500)
	n := b.N * packetsPerRun
	start := cpuTime(b)
	b.ResetTimer()
	for i := range n {
		pkt.SequenceNumber = uint16(i)
		raw, _ := pkt.Marshal()
		enc, err := ctx.EncryptRTP(out[:0], raw, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := tx.Write(enc); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64((cpuTime(b)-start).Microseconds())/float64(n), "cpu-µs/pkt")
	_ = rx.Close()
	wg.Wait()
}

// delays collects per-packet delays from every viewer.
type delays struct {
	tracks atomic.Int64 // remote tracks the viewers read
	mu     sync.Mutex
	epoch  time.Time
	d      []time.Duration
}

func (d *delays) add(payload []byte) {
	if len(payload) < 8 {
		return
	}
	sent := time.Duration(binary.BigEndian.Uint64(payload))
	now := time.Since(d.epoch)
	d.mu.Lock()
	d.d = append(d.d, now-sent)
	d.mu.Unlock()
}

func (d *delays) take() []time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := d.d
	d.d = nil
	return out
}

func benchForward(b *testing.B, pubs, viewers int) {
	s := newTestSFU(b, nil)
	defer s.Close()
	ds := &delays{epoch: time.Now()}
	for range viewers {
		benchViewer(b, s, ds)
	}
	tracks := make([]*webrtc.TrackLocalStaticRTP, pubs)
	for i := range tracks {
		tracks[i] = benchPublisher(b, s)
	}
	want := pubs * viewers
	var seq uint16 // increasing: SRTP drops replayed sequence numbers
	eventually(b, "every viewer receiving every publisher", 20*time.Second, func() bool {
		seq++
		sendRound(tracks, ds.epoch, seq)
		time.Sleep(20 * time.Millisecond)
		return ds.tracks.Load() == int64(want)
	})
	time.Sleep(200 * time.Millisecond)
	ds.take()

	var all []time.Duration
	forwarded := 0
	start := cpuTime(b)
	b.ResetTimer()
	for range b.N {
		runStart := time.Now()
		for i := range packetsPerRun {
			seq++
			sendRound(tracks, ds.epoch, seq)
			time.Sleep(time.Until(runStart.Add(time.Duration(i+1) * time.Second / packetRate)))
		}
		time.Sleep(100 * time.Millisecond) // let the last packets arrive
		got := ds.take()
		forwarded += len(got)
		all = append(all, got...)
	}
	b.StopTimer()
	cpu := cpuTime(b) - start
	sent := b.N * packetsPerRun * want
	if forwarded == 0 {
		b.Fatalf("forwarded none of %d packets", sent)
	}
	slices.Sort(all)
	// Loss means the machine could not keep up with this load.
	b.ReportMetric(100*float64(sent-forwarded)/float64(sent), "loss-%")
	b.ReportMetric(float64(cpu.Microseconds())/float64(forwarded), "cpu-µs/fwd-pkt")
	b.ReportMetric(float64(all[len(all)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-µs")
}

// sendRound writes one timestamped packet on every publisher track.
func sendRound(tracks []*webrtc.TrackLocalStaticRTP, epoch time.Time, seq uint16) {
	payload := make([]byte, payloadBytes)
	for _, t := range tracks {
		binary.BigEndian.PutUint64(payload, uint64(time.Since(epoch)))
		_ = t.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: uint32(seq) * 90},
			Payload: payload})
	}
}

func benchPublisher(b *testing.B, s *SFU) *webrtc.TrackLocalStaticRTP {
	c, err := s.Join(JoinRequest{ChannelID: "ch", ConnectionID: NewID(), Role: SendOnly, Video: true, Peer: newFakePeer()})
	if err != nil {
		b.Fatal(err)
	}
	pc := newClientPC(b)
	track, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "v", "s")
	if err != nil {
		b.Fatal(err)
	}
	connect(b, c, pc, func() {
		if _, err := pc.AddTrack(track); err != nil {
			b.Fatal(err)
		}
	})
	return track
}

// benchViewer joins a recvonly viewer that answers every re-offer and
// records the delay of every packet it reads.
func benchViewer(b *testing.B, s *SFU, ds *delays) {
	peer := newFakePeer()
	c, err := s.Join(JoinRequest{ChannelID: "ch", ConnectionID: NewID(), Role: RecvOnly, Peer: peer})
	if err != nil {
		b.Fatal(err)
	}
	pc := newClientPC(b)
	var wg sync.WaitGroup
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		ds.tracks.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				p, _, err := tr.ReadRTP()
				if err != nil {
					return
				}
				ds.add(p.Payload)
			}
		}()
	})
	connect(b, c, pc, nil)
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case sdp := <-peer.reOffers:
				if ans, err := tryAnswer(pc, sdp); err == nil {
					_ = c.SetAnswer(ans)
				}
			}
		}
	}()
	b.Cleanup(func() { close(stop); _ = pc.Close(); wg.Wait() })
}

// tryAnswer answers an offer; unlike answer it may run after the test
// body, while connections are closing, so it returns errors.
func tryAnswer(pc *webrtc.PeerConnection, offer string) (string, error) {
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return "", err
	}
	ans, err := pc.CreateAnswer(nil)
	if err != nil {
		return "", err
	}
	done := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(ans); err != nil {
		return "", err
	}
	<-done
	return pc.LocalDescription().SDP, nil
}
