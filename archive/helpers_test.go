package archive

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"github.com/kiroku-sfu/kiroku/mux"
	"github.com/kiroku-sfu/kiroku/mux/rtpdump"
)

// fakeClock is a Clock whose time moves only when the test says so.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	at      time.Time
	f       func()
	stopped bool
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 3, 12, 4, 42, 10, 455668000, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) func() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		was := !t.stopped
		t.stopped = true
		return was
	}
}

// Advance moves time on and runs the timers that fall due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []*fakeTimer
	for _, t := range c.timers {
		if !t.stopped && !t.at.After(c.now) {
			t.stopped = true
			due = append(due, t)
		}
	}
	c.mu.Unlock()
	for _, t := range due {
		t.f()
	}
}

// sentEvent is one webhook or notify the engine sent.
type sentEvent struct {
	typ, connID string
	data        any
}

// recNotifier records what the engine sent, in order.
type recNotifier struct {
	mu     sync.Mutex
	events []sentEvent
	notify []string
	signal chan struct{}
}

func newRecNotifier() *recNotifier { return &recNotifier{signal: make(chan struct{}, 1000)} }

func (n *recNotifier) Event(typ string, c Connection, _, _ string, data any) {
	n.add(sentEvent{typ: typ, connID: c.ConnectionID, data: data})
}

func (n *recNotifier) Session(typ, _, _ string, data any) { n.add(sentEvent{typ: typ, data: data}) }

func (n *recNotifier) NotifyChannel(_, ev string, _ map[string]any) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.notify = append(n.notify, ev)
}

func (n *recNotifier) add(e sentEvent) {
	n.mu.Lock()
	n.events = append(n.events, e)
	n.mu.Unlock()
	n.signal <- struct{}{}
}

func (n *recNotifier) list() []sentEvent {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.events)
}

// types lists the event types sent, with the connection id when there is one.
func (n *recNotifier) types() []string {
	var out []string
	for _, e := range n.list() {
		s := e.typ
		if e.connID != "" {
			s += ":" + e.connID
		}
		out = append(out, s)
	}
	return out
}

// waitFor waits until an event of type typ was sent.
func (n *recNotifier) waitFor(t *testing.T, typ string, within time.Duration) sentEvent {
	t.Helper()
	deadline := time.After(within)
	for {
		for _, e := range n.list() {
			if e.typ == typ {
				return e
			}
		}
		select {
		case <-n.signal:
		case <-deadline:
			t.Fatalf("no %s within %v; sent %v", typ, within, n.types())
		}
	}
}

// fakeSource is a connection's media as the SFU would deliver it.
type fakeSource struct {
	mu        sync.Mutex
	sink      Sink
	keyframes int
	closed    bool
}

func (s *fakeSource) Subscribe(sink Sink) (Subscription, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sink != nil {
		return nil, errors.New("fake source: subscribed twice")
	}
	s.sink = sink
	return s, nil
}

func (s *fakeSource) RequestKeyframe() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keyframes++
}

func (s *fakeSource) Dropped() uint64 { return 0 }

func (s *fakeSource) Close() {
	s.mu.Lock()
	sink := s.sink
	was := s.closed
	s.closed = true
	s.mu.Unlock()
	if sink != nil && !was {
		sink.PublisherClosed()
	}
}

func (s *fakeSource) subscribed() Sink {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sink
}

// packet is one record of a fixture.
type packet struct {
	kind   mux.Kind
	rtp    *rtp.Packet
	sr     *rtcp.SenderReport
	offset time.Duration
}

// fixture is a capture loaded in memory with the connection it describes.
type fixture struct {
	conn    Connection
	packets []packet
}

// loadFixture reads fixtures/rtpdumps/<name>, keeping packets up to limit.
func loadFixture(tb testing.TB, name, cid string, limit time.Duration) fixture {
	tb.Helper()
	fx, err := readFixture(name, cid, limit)
	if err != nil {
		tb.Fatal(err)
	}
	return fx
}

// readFixture is loadFixture for code without a testing.TB.
func readFixture(name, cid string, limit time.Duration) (fixture, error) {
	c, err := rtpdump.Open(filepath.Join("..", "fixtures", "rtpdumps", name))
	if err != nil {
		return fixture{}, err
	}
	defer c.Close()
	fx := fixture{conn: Connection{ClientID: "client-" + cid, BundleID: "bundle-" + cid, ConnectionID: cid,
		EventMetadata: json.RawMessage(`{"spam":"egg"}`)}}
	for _, st := range c.Sidecar.Streams {
		tr := &Track{Codec: st.Codec, ClockRate: st.ClockRate, Channels: st.Channels, Fmtp: st.Fmtp}
		if st.Codec.Kind() == mux.Video && fx.conn.Video == nil {
			fx.conn.Video = tr
		} else if st.Codec.Kind() == mux.Audio && fx.conn.Audio == nil {
			fx.conn.Audio = tr
		}
	}
	for {
		p, err := c.Next()
		if errors.Is(err, io.EOF) || (err == nil && p.Offset > limit) {
			return fx, nil
		}
		if err != nil {
			return fx, err
		}
		fx.packets = append(fx.packets, fixturePackets(c.Sidecar, p)...)
	}
}

func fixturePackets(sc rtpdump.Sidecar, p rtpdump.Packet) []packet {
	if p.RTCP {
		pkts, err := rtcp.Unmarshal(slices.Clone(p.Data))
		if err != nil {
			return nil
		}
		var out []packet
		for _, rp := range pkts {
			if sr, ok := rp.(*rtcp.SenderReport); ok {
				if st, ok := sc.Stream(sr.SSRC); ok {
					out = append(out, packet{kind: st.Codec.Kind(), sr: sr, offset: p.Offset})
				}
			}
		}
		return out
	}
	var pkt rtp.Packet
	p.Data = slices.Clone(p.Data) // the reader reuses its buffer
	if err := p.UnmarshalRTP(&pkt); err != nil {
		return nil
	}
	st, ok := sc.Stream(pkt.SSRC)
	if !ok || st.PayloadType != pkt.PayloadType {
		return nil
	}
	return []packet{{kind: st.Codec.Kind(), rtp: &pkt, offset: p.Offset}}
}

// play delivers the fixture's packets to sink with arrival = base + offset.
func (fx fixture) play(sink Sink, base time.Time) {
	for _, p := range fx.packets {
		if p.sr != nil {
			sink.WriteSenderReport(p.kind, p.sr, base.Add(p.offset))
		} else {
			sink.WriteRTP(p.kind, p.rtp, base.Add(p.offset))
		}
	}
}

// readJSON decodes a file into a map.
func readJSON(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m
}

// testEnv is a Manager over temp dirs with a fake clock.
type testEnv struct {
	m     *Manager
	cfg   Config
	clock *fakeClock
	n     *recNotifier
}

func newEnv(t *testing.T, mutate func(*Config), queue int) *testEnv {
	t.Helper()
	return newEnvDeps(t, mutate, Deps{QueueSize: queue})
}

// newEnvDeps is newEnv with more of the Manager's Deps chosen: its clock,
// notifiers and ids are the test's own.
func newEnvDeps(t *testing.T, mutate func(*Config), deps Deps) *testEnv {
	t.Helper()
	root := t.TempDir()
	cfg := DefaultConfig()
	cfg.ArchiveDir, cfg.TmpDir = filepath.Join(root, "archive"), filepath.Join(root, "tmp")
	if mutate != nil {
		mutate(&cfg)
	}
	e := &testEnv{cfg: cfg, clock: newFakeClock(), n: newRecNotifier()}
	ids := 0
	deps.Clock, deps.Notifier, deps.Channels = e.clock, e.n, e.n
	deps.NewID = func() string { ids++; return "REC" + SplitIndex(ids) }
	m, err := NewManager(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	e.m, e.cfg = m, m.cfg
	t.Cleanup(func() { _ = m.Close() })
	return e
}
