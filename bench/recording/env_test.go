package recording

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"github.com/kiroku-sfu/kiroku/archive"
	"github.com/kiroku-sfu/kiroku/mux"
)

// replayQueue is the recorders' hand-off queue in the benchmarks that
// replay faster than real time: larger than the default so that a busy
// shared machine pausing a recorder for a moment does not drop packets.
// The heap benchmark uses the default (archive.DefaultQueueSize).
const replayQueue = 8192

// source is a publisher as the SFU would present it to a recorder.
type source struct {
	mu     sync.Mutex
	sink   archive.Sink
	closed bool
}

// Subscribe attaches the recorder.
func (s *source) Subscribe(sink archive.Sink) (archive.Subscription, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sink != nil {
		return nil, errors.New("source: subscribed twice")
	}
	s.sink = sink
	return s, nil
}

// RequestKeyframe is ignored: the replay sends keyframes on its own schedule.
func (s *source) RequestKeyframe() {}

// Dropped is 0: the replay hands every packet over.
func (s *source) Dropped() uint64 { return 0 }

// Close detaches the sink, which then hears PublisherClosed.
func (s *source) Close() {
	s.mu.Lock()
	sink, was := s.sink, s.closed
	s.closed = true
	s.mu.Unlock()
	if sink != nil && !was {
		sink.PublisherClosed()
	}
}

// subscribed returns the attached sink.
func (s *source) subscribed() archive.Sink {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sink
}

// notifier records when each connection's archive.available was sent.
type notifier struct {
	mu        sync.Mutex
	available map[string]time.Time
	signal    chan struct{}
}

// newNotifier returns a notifier that has seen nothing.
func newNotifier() *notifier {
	return &notifier{available: map[string]time.Time{}, signal: make(chan struct{}, 1)}
}

// Event notes archive.available.
func (n *notifier) Event(typ string, c archive.Connection, _, _ string, _ any) {
	if typ != "archive.available" {
		return
	}
	n.mu.Lock()
	n.available[c.ConnectionID] = time.Now()
	n.mu.Unlock()
	select {
	case n.signal <- struct{}{}:
	default:
	}
}

// Session ignores session webhooks.
func (n *notifier) Session(string, string, string, any) {}

// waitAvailable returns when connection id's archive.available was sent.
func (n *notifier) waitAvailable(id string, within time.Duration) (time.Time, error) {
	deadline := time.After(within)
	for {
		n.mu.Lock()
		at, ok := n.available[id]
		n.mu.Unlock()
		if ok {
			return at, nil
		}
		select {
		case <-n.signal:
		case <-deadline:
			return time.Time{}, fmt.Errorf("no archive.available for %s within %v", id, within)
		}
	}
}

// newManager is a Manager writing into a fresh temp dir with format f and
// hand-off queues of queue events (0: the default). It also returns its
// configuration (the directories).
func newManager(b *testing.B, f archive.Format, n *notifier, queue int) (*archive.Manager, archive.Config) {
	b.Helper()
	cfg := archive.DefaultConfig()
	root := b.TempDir()
	cfg.ArchiveDir, cfg.TmpDir, cfg.DefaultFormat = filepath.Join(root, "archive"), filepath.Join(root, "tmp"), f
	m, err := archive.NewManager(cfg, archive.Deps{Notifier: n, QueueSize: queue})
	if err != nil {
		b.Fatal(err)
	}
	return m, cfg
}

// settle writes the dirty pages of the files under dir to disk. A
// recording replayed at 100 times real time leaves hundreds of megabytes
// dirty; one recorded in real time (312 KB/s) has the kernel write back
// everything older than about 30 s as it goes. Settling before the close
// leaves the final fsync with what a live recording would leave it.
func settle(b *testing.B, dir string) {
	b.Helper()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		return errors.Join(f.Sync(), f.Close())
	})
	if err != nil {
		b.Fatalf("settle %s: %v", dir, err)
	}
}

// mediaBytes is the size of the media files (not the JSON) under dir.
func mediaBytes(b *testing.B, dir string) int64 {
	b.Helper()
	var total int64
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(path) == ".json" {
			return err
		}
		info, err := d.Info()
		if err == nil {
			total += info.Size()
		}
		return err
	})
	if err != nil {
		b.Fatalf("size of %s: %v", dir, err)
	}
	return total
}

// recordAll joins n connections of st to a session on m, starts recording
// and returns their sources and recorders.
func recordAll(b *testing.B, m *archive.Manager, st *stream, n int) ([]*source, []*archive.Recorder) {
	b.Helper()
	if _, err := m.SessionCreated("ch", "S1", nil); err != nil {
		b.Fatal(err)
	}
	srcs := make([]*source, n)
	for i := range srcs {
		c := st.conn
		c.ConnectionID = fmt.Sprintf("C%d", i)
		srcs[i] = &source{}
		m.ConnectionJoined("ch", c, srcs[i])
	}
	if _, err := m.StartRecording("ch", archive.Options{}); err != nil {
		b.Fatal(err)
	}
	recs := make([]*archive.Recorder, n)
	for i, s := range srcs {
		r, ok := s.subscribed().(*archive.Recorder)
		if !ok {
			b.Fatalf("connection %d: no recorder subscribed", i)
		}
		recs[i] = r
	}
	return srcs, recs
}

// forwarder is the baseline sink: the bounded, non-blocking hand-off to a
// goroutine that a forwarding SFU pays for every track anyway, with the
// packets discarded instead of written.
type forwarder struct {
	in   chan handoff
	quit chan struct{}
	done chan struct{}
	once sync.Once
}

// handoff is what crosses the forwarder's queue.
type handoff struct {
	kind    mux.Kind
	pkt     *rtp.Packet
	sr      *rtcp.SenderReport
	arrival time.Time
}

// newForwarder starts a forwarder; PublisherClosed stops it.
func newForwarder() *forwarder {
	f := &forwarder{in: make(chan handoff, replayQueue), quit: make(chan struct{}), done: make(chan struct{})}
	go f.run()
	return f
}

// run discards what is handed over until PublisherClosed.
func (f *forwarder) run() {
	defer close(f.done)
	for {
		select {
		case <-f.in:
		case <-f.quit:
			return
		}
	}
}

// offer hands h over, or drops it when the queue is full.
func (f *forwarder) offer(h handoff) {
	select {
	case f.in <- h:
	default:
	}
}

// WriteRTP hands p over without waiting.
func (f *forwarder) WriteRTP(k mux.Kind, p *rtp.Packet, at time.Time) {
	f.offer(handoff{kind: k, pkt: p, arrival: at})
}

// WriteSenderReport hands sr over without waiting.
func (f *forwarder) WriteSenderReport(k mux.Kind, sr *rtcp.SenderReport, at time.Time) {
	f.offer(handoff{kind: k, sr: sr, arrival: at})
}

// PublisherClosed stops the goroutine and waits for it.
func (f *forwarder) PublisherClosed() {
	f.once.Do(func() { close(f.quit) })
	<-f.done
}

// cpuTime is the process's user + system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
