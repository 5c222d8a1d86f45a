package archive

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// Deps are a Manager's collaborators. Notifier is required; the rest
// default to the system clock, a discarding logger, no channel notify,
// DefaultQueueSize, DefaultWritePace and random ids.
type Deps struct {
	Clock     Clock
	Logger    *slog.Logger
	Notifier  Notifier
	Channels  ChannelNotifier
	QueueSize int
	// WritePace is how often at most a recorder writes what was queued
	// meanwhile, unless its queue fills faster (see DefaultWritePace).
	WritePace time.Duration
	NewID     func() string
}

// Manager runs the recordings of every channel: at most one per session.
// Its methods are safe for concurrent use and never wait on the disk or
// the network; a recording's files and report are delivered by goroutines
// the Manager owns (Close waits for them).
type Manager struct {
	cfg  Config
	deps Deps

	counters *counters

	mu       sync.Mutex
	sessions map[string]*session // by channel_id
	closed   bool
	wg       sync.WaitGroup
}

// session is a channel's live session and its publishers.
type session struct {
	id    string
	conns map[string]joined
	order []string
	rec   *recording
}

type joined struct {
	conn Connection
	src  Source
}

// NewManager validates cfg and creates the directories it needs.
func NewManager(cfg Config, deps Deps) (*Manager, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("archive: config: %w", err)
	}
	if deps.Notifier == nil {
		return nil, errors.New("archive: no notifier")
	}
	if deps.Clock == nil {
		deps.Clock = SystemClock{}
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.QueueSize <= 0 {
		deps.QueueSize = DefaultQueueSize
	}
	if deps.WritePace <= 0 {
		deps.WritePace = DefaultWritePace
	}
	if deps.NewID == nil {
		deps.NewID = NewRecordingID
	}
	for _, d := range []string{cfg.ArchiveDir, cfg.TmpDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("archive: create %s: %w", d, err)
		}
	}
	return &Manager{cfg: cfg, deps: deps, counters: newCounters(), sessions: map[string]*session{}}, nil
}

// SessionCreated registers a channel's new session. A non-nil opts (the
// session.created reply asked for recording) starts recording at once.
func (m *Manager) SessionCreated(channelID, sessionID string, opts *Options) (Info, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if old := m.sessions[channelID]; old != nil {
		m.stopLocked(channelID, old, false)
	}
	m.sessions[channelID] = &session{id: sessionID, conns: map[string]joined{}}
	if opts == nil {
		return Info{}, nil
	}
	return m.startLocked(channelID, *opts)
}

// SessionDestroyed stops the session's recording; call it after the
// session.destroyed webhook so recording.report follows it.
func (m *Manager) SessionDestroyed(channelID string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s := m.sessions[channelID]; s != nil {
		m.stopLocked(channelID, s, false)
		delete(m.sessions, channelID)
	}
}

// ConnectionJoined records a publisher of the channel from its first
// keyframe if the session is being recorded, and remembers it for a
// recording started later.
func (m *Manager) ConnectionJoined(channelID string, c Connection, src Source) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.sessions[channelID]
	if s == nil || m.closed {
		return
	}
	if _, ok := s.conns[c.ConnectionID]; !ok {
		s.order = append(s.order, c.ConnectionID)
	}
	s.conns[c.ConnectionID] = joined{conn: c, src: src}
	if s.rec != nil {
		s.rec.add(c, src)
	}
}

// ConnectionLeft finishes the connection's recording at once.
func (m *Manager) ConnectionLeft(channelID, connectionID string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.sessions[channelID]
	if s == nil {
		return
	}
	delete(s.conns, connectionID)
	if s.rec != nil {
		if r := s.rec.byConn[connectionID]; r != nil {
			r.Stop()
		}
	}
}

// StartRecording starts recording the channel's session. Errors wrap
// ErrInvalid (bad options), ErrNotFound (no session) or ErrConflict
// (already recording).
func (m *Manager) StartRecording(channelID string, o Options) (Info, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.startLocked(channelID, o)
}

// StopRecording stops the channel's recording; ErrNotFound when there is
// none. The files and report follow asynchronously.
func (m *Manager) StopRecording(channelID string) (Info, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.sessions[channelID]
	if s == nil || s.rec == nil {
		return Info{}, fmt.Errorf("archive: stop recording of %q: %w", channelID, ErrNotFound)
	}
	in := s.rec.info()
	m.stopLocked(channelID, s, false)
	return in, nil
}

// Recording returns the channel's running recording, for GetSession and
// ListSessions.
func (m *Manager) Recording(channelID string) (Info, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s := m.sessions[channelID]; s != nil && s.rec != nil {
		return s.rec.info(), true
	}
	return Info{}, false
}

// Close stops every recording and waits until their files and reports
// are delivered.
func (m *Manager) Close() error {
	m.mu.Lock()
	m.closed = true
	for ch, s := range m.sessions {
		m.stopLocked(ch, s, false)
	}
	m.mu.Unlock()
	m.wg.Wait()
	return nil
}

func (m *Manager) startLocked(channelID string, o Options) (Info, error) {
	s := m.sessions[channelID]
	switch {
	case m.closed:
		return Info{}, fmt.Errorf("archive: start recording: %w: shutting down", ErrConflict)
	case s == nil:
		return Info{}, fmt.Errorf("archive: start recording of %q: no session: %w", channelID, ErrNotFound)
	case s.rec != nil:
		return Info{}, fmt.Errorf("archive: start recording of %q: already recording (%s): %w", channelID, s.rec.plan.id, ErrConflict)
	}
	opts, out, err := m.cfg.Resolve(o)
	if err != nil {
		return Info{}, fmt.Errorf("archive: start recording of %q: %w", channelID, err)
	}
	p := &plan{cfg: m.cfg, id: m.deps.NewID(), channelID: channelID, sessionID: s.id, start: m.deps.Clock.Now(),
		opts: opts, out: out, clock: m.deps.Clock, notifier: m.deps.Notifier,
		queue: m.deps.QueueSize, pace: m.deps.WritePace, counters: m.counters}
	p.logger = m.deps.Logger.With("recording_id", p.id)
	rec := &recording{plan: p, byConn: map[string]*Recorder{}}
	if err := rec.writeSidecar(); err != nil {
		return Info{}, fmt.Errorf("archive: start recording of %q: %w", channelID, err)
	}
	s.rec = rec
	in := rec.info()
	m.deps.Notifier.Session("recording.started", channelID, s.id, in)
	m.notifyChannel(channelID, "recording.started", in)
	if opts.ExpireTime > 0 {
		rid := p.id
		rec.stopTimer = m.deps.Clock.AfterFunc(time.Duration(opts.ExpireTime)*time.Second, func() { m.expire(channelID, rid) })
	}
	for _, cid := range s.order {
		if j, ok := s.conns[cid]; ok {
			rec.add(j.conn, j.src)
		}
	}
	return in, nil
}

// expire stops recording rid when its expire_time is reached.
func (m *Manager) expire(channelID, rid string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s := m.sessions[channelID]; s != nil && s.rec != nil && s.rec.plan.id == rid {
		s.rec.stopTimer = nil
		m.stopLocked(channelID, s, true)
	}
}

// stopLocked stops the session's recording and finishes it in the background.
func (m *Manager) stopLocked(channelID string, s *session, expired bool) {
	rec := s.rec
	if rec == nil {
		return
	}
	s.rec = nil
	rec.stop(m.deps.Clock.Now(), expired)
	m.notifyChannel(channelID, "recording.stopped", rec.info())
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		rec.finish()
	}()
}

func (m *Manager) notifyChannel(channelID, event string, in Info) {
	if m.deps.Channels == nil {
		return
	}
	m.deps.Channels.NotifyChannel(channelID, event, map[string]any{
		"channel_id": in.ChannelID, "session_id": in.SessionID, "recording_id": in.RecordingID,
		"split_only": in.SplitOnly, "split_duration": in.SplitDuration, "format": in.Format,
		"start_timestamp": in.StartTimestamp,
	})
}
