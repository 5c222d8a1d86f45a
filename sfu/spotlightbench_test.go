package sfu

import (
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// newVoiceClientPC is newClientPC with the audio level extension, as a
// browser sends it.
func newVoiceClientPC(tb testing.TB) *webrtc.PeerConnection {
	tb.Helper()
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		tb.Fatal(err)
	}
	if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: AudioLevelURI}, webrtc.RTPCodecTypeAudio); err != nil {
		tb.Fatal(err)
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(m, ir); err != nil {
		tb.Fatal(err)
	}
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	api := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = pc.Close() })
	return pc
}

// voicePub is a pion publisher of audio (with its level) and VP8 video
// without layers.
type voicePub struct {
	id           string
	audio, video *webrtc.TrackLocalStaticRTP
	levelID      uint8
	seq          uint16
}

func joinVoicePub(tb testing.TB, s *SFU, ch string, spotlight bool) *voicePub {
	tb.Helper()
	p := &voicePub{id: NewID()}
	c, err := s.Join(JoinRequest{ChannelID: ch, ConnectionID: p.id, Role: SendOnly, Audio: true, Video: true,
		Spotlight: spotlight, Peer: newFakePeer()})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = c.Close() })
	pc := newVoiceClientPC(tb)
	p.audio, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "a", "s")
	if err != nil {
		tb.Fatal(err)
	}
	p.video, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "v", "s")
	if err != nil {
		tb.Fatal(err)
	}
	var audioSender *webrtc.RTPSender
	connect(tb, c, pc, func() {
		if audioSender, err = pc.AddTrack(p.audio); err != nil {
			tb.Fatal(err)
		}
		if _, err = pc.AddTrack(p.video); err != nil {
			tb.Fatal(err)
		}
	})
	for _, e := range audioSender.GetParameters().HeaderExtensions {
		if e.URI == AudioLevelURI {
			p.levelID = uint8(e.ID)
		}
	}
	if p.levelID == 0 {
		tb.Fatal("the audio level extension was not negotiated")
	}
	return p
}

// send writes one audio packet at level and one video packet that
// starts a VP8 keyframe (the video gate resumes at once).
func (p *voicePub) send(level uint8) {
	p.seq++
	a := &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: p.seq, Timestamp: uint32(p.seq) * 960}, Payload: make([]byte, 100)}
	_ = a.SetExtension(p.levelID, []byte{0x80 | level})
	_ = p.audio.WriteRTP(a)
	v := make([]byte, payloadBytes)
	v[0] = 0x10 // S, partition 0; then a VP8 header with P 0: a keyframe start
	_ = p.video.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: p.seq, Timestamp: uint32(p.seq) * 90, Marker: true}, Payload: v})
}

// countingViewer joins a recvonly viewer that counts the packets it gets
// per publisher and kind ("<connection id>/video").
type countingViewer struct {
	mu     sync.Mutex
	counts map[string]int
	total  atomic.Int64
	tracks atomic.Int64
}

func (v *countingViewer) count(key string) int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.counts[key]
}

func joinCountingViewer(tb testing.TB, s *SFU, ch string, spotlight bool) *countingViewer {
	tb.Helper()
	cv := &countingViewer{counts: map[string]int{}}
	peer := newFakePeer()
	c, err := s.Join(JoinRequest{ChannelID: ch, ConnectionID: NewID(), Role: RecvOnly, Spotlight: spotlight, Peer: peer})
	if err != nil {
		tb.Fatal(err)
	}
	pc := newClientPC(tb)
	var wg sync.WaitGroup
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		cv.tracks.Add(1)
		key := tr.StreamID() + "/" + tr.Kind().String()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				if _, _, err := tr.ReadRTP(); err != nil {
					return
				}
				cv.total.Add(1)
				cv.mu.Lock()
				cv.counts[key]++
				cv.mu.Unlock()
			}
		}()
	})
	connect(tb, c, pc, nil)
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
	tb.Cleanup(func() { close(stop); _ = pc.Close(); wg.Wait(); _ = c.Close() })
	return cv
}

// TestSpotlightVoiceFromAudioLevel: pion publishers send audio with the
// RFC 6464 level and VP8 video without layers. The one that speaks is
// focused from its packets' levels; the silent one's video is paused for
// the viewer while its audio flows on and its recorder gets both. Pinned by the API, the silent
// one's video resumes and the speaker's pauses.
func TestSpotlightVoiceFromAudioLevel(t *testing.T) {
	s := newTestSFU(t, nil)
	loud, quiet := joinVoicePub(t, s, "ch", true), joinVoicePub(t, s, "ch", true)
	v := joinCountingViewer(t, s, "ch", true)
	eventually(t, "the speaker focused", 10*time.Second, func() bool {
		loud.send(10)
		quiet.send(127)
		time.Sleep(20 * time.Millisecond)
		f, _ := s.SpotlightFocused("ch")
		return len(f) == 1 && f[0] == loud.id
	})
	// The paused video never reaches the viewer: three tracks.
	eventually(t, "the viewer getting three tracks", 10*time.Second, func() bool {
		loud.send(10)
		quiet.send(127)
		time.Sleep(20 * time.Millisecond)
		return v.tracks.Load() == 3
	})
	sink := newFakeSink()
	sub, err := s.Subscribe(quiet.id, sink)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sub.Close() }()
	before := map[string]int{}
	for _, k := range []string{loud.id + "/video", quiet.id + "/video", quiet.id + "/audio"} {
		before[k] = v.count(k)
	}
	for range 50 {
		loud.send(10)
		quiet.send(127)
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	if n := v.count(loud.id+"/video") - before[loud.id+"/video"]; n < 40 {
		t.Errorf("the focused speaker's video: %d packets of 50", n)
	}
	if n := v.count(quiet.id+"/video") - before[quiet.id+"/video"]; n != 0 {
		t.Errorf("the unfocused publisher's video: %d packets, want it paused", n)
	}
	if n := v.count(quiet.id+"/audio") - before[quiet.id+"/audio"]; n < 40 {
		t.Errorf("the unfocused publisher's audio: %d packets of 50", n)
	}
	// Its recorder gets its video all the same.
	recorded, _ := sink.snapshot()
	if n := recorded["video-v"]; n < 40 {
		t.Errorf("the unfocused publisher's recorder got %d video packets of 50 (%v)", n, recorded)
	}
	// The API pins the silent one: its video resumes (at a keyframe),
	// the speaker's pauses.
	if err := s.FocusSpotlight("ch", quiet.id, true); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the pinned publisher's video reaching the viewer", 5*time.Second, func() bool {
		loud.send(10)
		quiet.send(127)
		time.Sleep(20 * time.Millisecond)
		return v.count(quiet.id+"/video") > 10
	})
	paused := v.count(loud.id + "/video")
	for range 20 {
		loud.send(10)
		quiet.send(127)
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	if n := v.count(loud.id+"/video") - paused; n != 0 {
		t.Errorf("the unfocused speaker's video: %d packets, want it paused", n)
	}
}

// benchRoom is one channel of BenchmarkSpotlightForward.
type benchRoom struct {
	pubs  []*voicePub
	views []*countingViewer
	cpu   time.Duration
	fwd   int64
}

// round sends one voiced audio packet and one video packet per publisher.
func (r *benchRoom) round() {
	for _, p := range r.pubs {
		p.send(10)
	}
}

// forwarded is what the viewers received so far.
func (r *benchRoom) forwarded() int64 {
	n := int64(0)
	for _, v := range r.views {
		n += v.total.Load()
	}
	return n
}

func setupBenchRoom(b *testing.B, ch string, spotlight bool, pubs, viewers int) *benchRoom {
	s := newTestSFU(b, nil)
	r := &benchRoom{}
	for range viewers {
		r.views = append(r.views, joinCountingViewer(b, s, ch, spotlight))
	}
	for range pubs {
		r.pubs = append(r.pubs, joinVoicePub(b, s, ch, spotlight))
	}
	if spotlight {
		if err := s.ChangeSpotlightNumber(ch, pubs); err != nil {
			b.Fatal(err)
		}
		for _, p := range r.pubs {
			if err := s.FocusSpotlight(ch, p.id, true); err != nil {
				b.Fatal(err)
			}
		}
	}
	eventually(b, "every viewer getting every track", 20*time.Second, func() bool {
		r.round()
		time.Sleep(20 * time.Millisecond)
		n := int64(0)
		for _, v := range r.views {
			n += v.tracks.Load()
		}
		return n == int64(2*pubs*viewers)
	})
	return r
}

// BenchmarkSpotlightForward compares, in one run, forwarding in a plain
// channel and in a spotlight channel (every publisher focused, so both
// forward the same packets; the spotlight one reads every audio level,
// decides the focus and passes the video gate): 4 publishers of audio
// and video, 4 viewers, the two channels taking turns. It reports each
// one's process CPU per forwarded packet and their ratio.
func BenchmarkSpotlightForward(b *testing.B) {
	rooms := []*benchRoom{setupBenchRoom(b, "off", false, 4, 4), setupBenchRoom(b, "on", true, 4, 4)}
	b.ResetTimer()
	for range b.N {
		for _, r := range rooms {
			before := r.forwarded()
			start := cpuTime(b)
			runStart := time.Now()
			for i := range packetsPerRun {
				r.round()
				time.Sleep(time.Until(runStart.Add(time.Duration(i+1) * time.Second / packetRate)))
			}
			time.Sleep(100 * time.Millisecond)
			r.cpu += cpuTime(b) - start
			r.fwd += r.forwarded() - before
		}
	}
	b.StopTimer()
	per := func(r *benchRoom) float64 { return float64(r.cpu.Nanoseconds()) / 1000 / float64(max(r.fwd, 1)) }
	b.ReportMetric(per(rooms[0]), "off-cpu-µs/fwd-pkt")
	b.ReportMetric(per(rooms[1]), "on-cpu-µs/fwd-pkt")
	b.ReportMetric(per(rooms[1])/per(rooms[0]), "on/off")
	if rooms[1].fwd < rooms[0].fwd*9/10 {
		b.Errorf("spotlight forwarded %d packets, plain %d: not the same load", rooms[1].fwd, rooms[0].fwd)
	}
}

// BenchmarkSpotlightDetector is the voice detector's share of one audio
// packet of a spotlight channel with four publishers: reading the level
// extension beside transport-cc's, the voice update, the due check and,
// every fifth packet (a decision per 100 ms at 50 packets a second), a
// decision. Compare it with BenchmarkSpotlightForward's CPU per
// forwarded packet.
func BenchmarkSpotlightDetector(b *testing.B) {
	sp := newSpotlight(1)
	for i := range 4 {
		sp.add(fmt.Sprint(i), time.Unix(0, 0))
	}
	m := sp.member("0")
	p := &rtp.Packet{Header: rtp.Header{Version: 2}, Payload: make([]byte, 100)}
	_ = p.SetExtension(3, []byte{0, 1})
	_ = p.SetExtension(1, []byte{0x80 | 20})
	now := time.Unix(1000, 0)
	b.ResetTimer()
	for range b.N {
		now = now.Add(20 * time.Millisecond)
		if level, ok := audioLevel(p, 1); ok {
			m.voice.observe(level, now)
		}
		if sp.due(now) {
			sp.decide(now)
		}
	}
}
