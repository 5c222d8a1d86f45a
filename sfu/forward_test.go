package sfu

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// viewer is a pion client that counts packets per remote stream id.
type viewer struct {
	pc      *webrtc.PeerConnection
	peer    *fakePeer
	conn    *Connection
	packets sync.Map // stream id -> *atomic.Int64
	wg      sync.WaitGroup
}

func startViewer(t *testing.T, s *SFU, bundle string) *viewer {
	t.Helper()
	v := &viewer{pc: newClientPC(t), peer: newFakePeer()}
	var err error
	v.conn, err = s.Join(JoinRequest{ChannelID: "ch", ConnectionID: NewID(), BundleID: bundle, Role: RecvOnly, Peer: v.peer})
	if err != nil {
		t.Fatal(err)
	}
	v.pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		n, _ := v.packets.LoadOrStore(tr.StreamID(), new(atomic.Int64))
		v.wg.Add(1)
		go func() {
			defer v.wg.Done()
			for {
				if _, _, err := tr.ReadRTP(); err != nil {
					return
				}
				n.(*atomic.Int64).Add(1)
			}
		}()
	})
	connect(t, v.conn, v.pc, nil)
	t.Cleanup(func() { _ = v.pc.Close(); v.wg.Wait() })
	return v
}

func (v *viewer) count(stream string) int64 {
	if n, ok := v.packets.Load(stream); ok {
		return n.(*atomic.Int64).Load()
	}
	return 0
}

// reAnswer answers the next re-offer, failing after d.
func (v *viewer) reAnswer(t *testing.T, d time.Duration) string {
	t.Helper()
	select {
	case sdp := <-v.peer.reOffers:
		if err := v.conn.SetAnswer(answer(t, v.pc, sdp)); err != nil {
			t.Fatalf("re-answer: %v", err)
		}
		return sdp
	case <-time.After(d):
		t.Fatal("no re-offer")
	}
	return ""
}

// TestForwarding checks multistream forwarding: a viewer that joined
// first gets the publisher by re-offer with msid stream id = the
// publisher's connection_id, a viewer sharing the publisher's bundle_id
// gets nothing, the publisher leaving gets its m-line rejected (port 0)
// and the next publisher reuses it; on one shared UDP port (the default),
// with forwarded packets sent by the direct SRTP path (the default) or by
// pion's, and on a port per connection (pion's path).
func TestForwarding(t *testing.T) {
	for _, tc := range []struct {
		name           string
		shared, direct bool
	}{
		{"shared udp port", true, true},
		{"shared udp port, pion write path", true, false},
		{"port per connection", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) { testForwarding(t, tc.shared, tc.direct) })
	}
}

func testForwarding(t *testing.T, shared, direct bool) {
	before := runtime.NumGoroutine()
	port := freeUDPPort(t)
	if !shared {
		port = 0
	}
	s := newTestSFUWith(t, func(c *Config) { c.UDPPort, c.DirectSRTP = port, direct })
	v := startViewer(t, s, "")
	pubID := NewID()
	same := startViewer(t, s, pubID)

	pubConn, err := s.Join(JoinRequest{ChannelID: "ch", ConnectionID: pubID, Role: SendRecv, Video: true, Peer: newFakePeer()})
	if err != nil {
		t.Fatal(err)
	}
	pub := startPublisher(t, pubConn)
	offer := v.reAnswer(t, 10*time.Second)
	if !strings.Contains(offer, "a=msid:"+pubID+" ") {
		t.Fatalf("re-offer lacks msid with the publisher's connection id:\n%s", offer)
	}
	if !strings.Contains(offer, "rtx/90000") || !strings.Contains(offer, "a=ssrc-group:FID ") {
		t.Fatalf("re-offer sends the forwarded video without an RTX stream:\n%s", offer)
	}
	if onPort := strings.Contains(offer, fmt.Sprintf(" 127.0.0.1 %d typ host", port)); onPort != shared {
		t.Fatalf("candidates on the shared port %d: %v, want %v:\n%s", port, onPort, shared, offer)
	}
	eventually(t, "forwarded packets", 10*time.Second, func() bool { return v.count(pubID) >= 20 })
	if got := v.conn.path != nil && v.conn.path.Direct(); got != direct {
		t.Fatalf("viewer's packets sent by the direct SRTP path: %v, want %v", got, direct)
	}
	select {
	case sdp := <-same.peer.reOffers:
		t.Fatalf("same-bundle viewer got a re-offer:\n%s", sdp)
	case <-time.After(200 * time.Millisecond):
	}
	if got := len(s.ChannelConnections("ch")); got != 3 {
		t.Fatalf("channel has %d connections, want 3", got)
	}
	st := s.Stats()
	if st.ConnectionsCreated != 3 || st.OngoingConnections != 3 || st.SessionsCreated != 1 ||
		st.ReceivedRTPPackets == 0 || st.ForwardedRTPPackets == 0 || st.ForwardedRTPPackets > st.ReceivedRTPPackets ||
		st.ForwardedRTPBytes == 0 || st.ForwardedRTPBytes > st.ReceivedRTPBytes {
		t.Fatalf("stats %+v", st)
	}

	pub.close()
	if err := pubConn.Close(); err != nil {
		t.Logf("close publisher: %v", err)
	}
	slot := midOf(t, offer, pubID)
	offer = v.reAnswer(t, 10*time.Second)
	if strings.Contains(offer, "a=msid:"+pubID+" ") {
		t.Fatalf("re-offer after leave still sends the publisher's track:\n%s", offer)
	}
	if m, group := sectionOf(t, offer, slot); m.MediaName.Port.Value != 0 || slices.Contains(group, slot) {
		t.Fatalf("the departed publisher's m-line (mid %s) is not rejected:\n%s", slot, offer)
	}

	// The next publisher reuses the rejected slot, with its mid.
	pub2ID := NewID()
	pub2Conn, err := s.Join(JoinRequest{ChannelID: "ch", ConnectionID: pub2ID, Role: SendOnly, Video: true, Peer: newFakePeer()})
	if err != nil {
		t.Fatal(err)
	}
	pub2 := startPublisher(t, pub2Conn)
	offer = v.reAnswer(t, 10*time.Second)
	if got := midOf(t, offer, pub2ID); got != slot {
		t.Fatalf("the next publisher got mid %s, not the freed slot %s:\n%s", got, slot, offer)
	}
	if m, group := sectionOf(t, offer, slot); m.MediaName.Port.Value == 0 || !slices.Contains(group, slot) {
		t.Fatalf("the reused m-line (mid %s) is still rejected:\n%s", slot, offer)
	}
	pub2.close()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_ = v.pc.Close()
	_ = same.pc.Close()
	v.wg.Wait()
	checkGoroutines(t, before)
}

// sectionOf returns the media section with the mid and the BUNDLE group's
// mids of an SDP.
func sectionOf(t *testing.T, offer, mid string) (*sdp.MediaDescription, []string) {
	t.Helper()
	d := parseSDP(t, offer)
	m := section(d, mid)
	if m == nil {
		t.Fatalf("no m-line with mid %s:\n%s", mid, offer)
	}
	return m, bundleMids(d)
}

// midOf returns the mid of the m-line carrying the stream id in its msid.
func midOf(t *testing.T, offer, streamID string) string {
	t.Helper()
	for _, m := range parseSDP(t, offer).MediaDescriptions {
		if msid, ok := m.Attribute("msid"); ok && strings.HasPrefix(msid, streamID+" ") {
			return mediaMid(m)
		}
	}
	t.Fatalf("no m-line of stream %s:\n%s", streamID, offer)
	return ""
}

// recordingObserver records session lifecycle calls.
type recordingObserver struct {
	mu     sync.Mutex
	events []string
}

func (o *recordingObserver) add(e string) { o.mu.Lock(); o.events = append(o.events, e); o.mu.Unlock() }
func (o *recordingObserver) SessionCreated(s SessionInfo) {
	o.add("created:" + s.ChannelID)
}
func (o *recordingObserver) SessionDestroyed(s SessionInfo) { o.add("destroyed:" + s.ChannelID) }
func (o *recordingObserver) SessionsVanished(m Mode)        { o.add("vanished:" + string(m)) }

// TestModesAndSessions checks admission under each mode and the session
// lifecycle callbacks.
func TestModesAndSessions(t *testing.T) {
	obs := &recordingObserver{}
	cfg := DefaultConfig()
	cfg.ICEAddress, cfg.ICELoopback, cfg.Observer = "127.0.0.1", true, obs
	cfg.UDPPort = freeUDPPort(t) // not 50000, which a running node may hold
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	join := func(ch string) (*Connection, error) {
		return s.Join(JoinRequest{ChannelID: ch, ConnectionID: NewID(), Role: RecvOnly, Peer: newFakePeer()})
	}
	a, err := join("a")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		mode    Mode
		channel string
		want    error
	}{
		{ModeBlockNewConnection, "a", ErrBlockedConnection},
		{ModeBlockNewConnection, "b", ErrBlockedConnection},
		{ModeBlockNewSession, "b", ErrBlockedSession},
		{ModeBlockNewSession, "a", nil},
		{ModeNormal, "c", nil},
	} {
		if err := s.SetMode(tc.mode); err != nil {
			t.Fatal(err)
		}
		c, err := join(tc.channel)
		if !errors.Is(err, tc.want) {
			t.Fatalf("mode %s channel %s: err = %v, want %v", tc.mode, tc.channel, err, tc.want)
		}
		if c != nil {
			_ = c.Close()
		}
	}
	if err := s.SetMode("bogus"); err == nil {
		t.Fatal("SetMode accepted an invalid mode")
	}
	if err := s.SetMode(ModeBlockNewSession); err != nil {
		t.Fatal(err)
	}
	_ = a.Close()
	if st := s.Stats(); st.ConnectionsRejected != 3 || st.ConnectionsCreated != 3 || st.ConnectionsDestroyed != 3 || st.SessionsDestroyed != 2 {
		t.Fatalf("stats %+v", st)
	}
	want := "created:a,created:c,destroyed:c,destroyed:a,vanished:block_new_session"
	if got := strings.Join(obs.events, ","); got != want {
		t.Fatalf("events = %s, want %s", got, want)
	}
}

func TestNewID(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		id := NewID()
		if len(id) != 26 || strings.ContainsAny(id, "ILOU") || seen[id] {
			t.Fatalf("bad or repeated id %q", id)
		}
		seen[id] = true
	}
}

// TestOneOutstandingReOffer checks that a viewer never has two re-offers
// outstanding: changes made while one waits for its answer are coalesced
// into a single follow-up re-offer.
func TestOneOutstandingReOffer(t *testing.T) {
	s := newTestSFU(t, nil)
	defer s.Close()
	v := startViewer(t, s, "")
	publish := func() string {
		id := NewID()
		c, err := s.Join(JoinRequest{ChannelID: "ch", ConnectionID: id, Role: SendOnly, Video: true, Peer: newFakePeer()})
		if err != nil {
			t.Fatal(err)
		}
		startPublisher(t, c)
		return id
	}
	first := publish()
	var offer string
	select {
	case offer = <-v.peer.reOffers:
	case <-time.After(10 * time.Second):
		t.Fatal("no re-offer for the first publisher")
	}
	if !strings.Contains(offer, "a=msid:"+first+" ") {
		t.Fatal("first re-offer lacks the first publisher")
	}
	second := publish()
	time.Sleep(time.Second) // the second publisher's track has arrived by now
	select {
	case <-v.peer.reOffers:
		t.Fatal("a second re-offer was sent while the first was outstanding")
	default:
	}
	if err := v.conn.SetAnswer(answer(t, v.pc, offer)); err != nil {
		t.Fatal(err)
	}
	offer = v.reAnswer(t, 10*time.Second)
	if !strings.Contains(offer, "a=msid:"+first+" ") || !strings.Contains(offer, "a=msid:"+second+" ") {
		t.Fatalf("follow-up re-offer lacks a publisher:\n%s", offer)
	}
	select {
	case <-v.peer.reOffers:
		t.Fatal("an extra re-offer after the coalesced one")
	case <-time.After(300 * time.Millisecond):
	}
}

// TestFanoutHalves checks that a track with more than splitFanoutAt
// viewers binds the newer ones to its second half, written by its own
// goroutine, and that every viewer of both halves gets the packets.
func TestFanoutHalves(t *testing.T) {
	before := runtime.NumGoroutine()
	s := newTestSFU(t, nil)
	pubID := NewID()
	pubConn, err := s.Join(JoinRequest{ChannelID: "ch", ConnectionID: pubID, Role: SendOnly, Video: true, Peer: newFakePeer()})
	if err != nil {
		t.Fatal(err)
	}
	pub := startPublisher(t, pubConn)
	var track *publishedTrack
	eventually(t, "the published track", 10*time.Second, func() bool {
		pubConn.mu.Lock()
		defer pubConn.mu.Unlock()
		for _, pt := range pubConn.tracks {
			track = pt
		}
		return track != nil
	})
	const n = splitFanoutAt + 6
	viewers := make([]*viewer, n)
	for i := range viewers {
		viewers[i] = startViewer(t, s, "")
	}
	for _, v := range viewers {
		if v.count(pubID) == 0 {
			// Those that joined after the track was published got it in
			// their first offer; the others by re-offer.
			select {
			case sdp := <-v.peer.reOffers:
				if err := v.conn.SetAnswer(answer(t, v.pc, sdp)); err != nil {
					t.Fatal(err)
				}
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	if got, second := track.viewers.Load(), track.seconds.Load(); got != n || second == 0 || second > n/2 {
		t.Fatalf("%d viewers, %d on the second half; want %d with the second half used and no fuller", got, second, n)
	}
	for i, v := range viewers {
		eventually(t, fmt.Sprintf("viewer %d receiving", i), 10*time.Second, func() bool { return v.count(pubID) >= 10 })
	}
	pub.close()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, v := range viewers {
		_ = v.pc.Close()
		v.wg.Wait()
	}
	checkGoroutines(t, before)
}
