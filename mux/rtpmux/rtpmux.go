// Package rtpmux records one connection: it takes the connection's audio and
// video RTP packets and RTCP sender reports, turns each track into frames
// (mux/depack), aligns the tracks on one timeline, interleaves their frames
// in time order and hands them to a container writer, splitting the
// recording into several files on request.
//
// The recording timeline starts at 0 with the first frame written. A track
// is placed on it by its first frame: by the sender's RTCP sender reports
// when both tracks have one, else by arrival time; from then on its own RTP
// clock moves it, so DTX silence and loss gaps keep their length, and its
// times never go back. Frames wait up to an interleave window so that the
// writer gets both tracks in time order. Each file of a split recording has
// its own timeline starting at 0 at its cut.
//
// A Muxer starts no goroutine and is safe for concurrent use; it does its
// work, writer calls included, in the caller's WritePacket and Close. Its
// callbacks (NewWriter, RequestKeyframe, OnPartClosed) run with its lock
// held and must not call back into it.
package rtpmux

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/pion/rtp"

	"github.com/kiroku-sfu/kiroku/mux"
	"github.com/kiroku-sfu/kiroku/mux/depack"
)

// Defaults of Config.
const (
	DefaultInterleaveWindow = 500 * time.Millisecond
	DefaultSplitHold        = 5 * time.Second
	// maxQueued bounds the frames held for interleaving across tracks.
	maxQueued = 4096
)

// ErrNoMedia is returned by Close when no frame was ever written, so no
// file was created.
var ErrNoMedia = errors.New("rtpmux: no frame was recorded")

// Part describes a file finished by a split.
type Part struct {
	mux.Summary
	// Start and End are the file's bounds on the recording timeline.
	Start, End time.Duration
}

// Config configures a Muxer.
type Config struct {
	// Video and Audio describe the tracks; either may be nil, not both.
	Video, Audio *mux.TrackInfo
	// VideoDepacketizer and AudioDepacketizer are required for the
	// configured tracks (one fresh instance each).
	VideoDepacketizer, AudioDepacketizer mux.FrameDepacketizer
	// NewWriter creates the writer of the first file and of every part
	// after a split; it decides format and destination.
	NewWriter func(video, audio *mux.TrackInfo) (mux.Writer, error)
	// RequestKeyframe asks the sender for a video keyframe (optional; the
	// caller rate-limits).
	RequestKeyframe func()
	// OnPartClosed receives the summary of every file finished by a split
	// (optional). The last file's summary is Close's result.
	OnPartClosed func(Part)
	// Logger receives lifecycle events (default: discard).
	Logger *slog.Logger
	// InterleaveWindow is how long a frame may wait for the other track's
	// earlier frames (default 500 ms; keep it above the assemblers' MaxLatency).
	InterleaveWindow time.Duration
	// SplitHold is how long audio past a pending split may wait for the
	// video keyframe that makes the cut (default 5 s); after it the cut
	// falls on audio and video resumes at its next keyframe.
	SplitHold time.Duration
	// ReorderWindow and MaxLatency configure each track's assembler.
	ReorderWindow int
	MaxLatency    time.Duration
}

func (c *Config) setDefaults() {
	if c.InterleaveWindow == 0 {
		c.InterleaveWindow = DefaultInterleaveWindow
	}
	if c.SplitHold == 0 {
		c.SplitHold = DefaultSplitHold
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Validate reports the first invalid field.
func (c *Config) Validate() error {
	switch {
	case c.Video == nil && c.Audio == nil:
		return errors.New("rtpmux: no track")
	case c.Video != nil && (c.Video.Kind() != mux.Video || c.VideoDepacketizer == nil):
		return errors.New("rtpmux: video track needs a video codec and a depacketizer")
	case c.Audio != nil && (c.Audio.Kind() != mux.Audio || c.AudioDepacketizer == nil):
		return errors.New("rtpmux: audio track needs an audio codec and a depacketizer")
	case c.NewWriter == nil:
		return errors.New("rtpmux: no NewWriter")
	case c.InterleaveWindow < 0 || c.SplitHold < 0:
		return errors.New("rtpmux: negative interleave window or split hold")
	}
	return nil
}

// Muxer records one connection's tracks into one file or a series of
// split files.
type Muxer struct {
	mu     sync.Mutex
	cfg    Config
	tracks [2]*track // video, audio
	pool   bufPool

	w         mux.Writer
	started   bool          // the first frame was written
	fileStart time.Duration // reference time of the recording's 0
	base      time.Duration // recording time where the current file starts
	latestRef time.Duration // newest frame time queued
	hasLatest bool
	queued    int

	split    splitState
	keyAt    time.Duration // a keyframe is wanted from this recording time on
	keyAtSet bool
	requests int // keyframe requests since the current file started
	err      error
	closed   bool
}

// New returns a Muxer for cfg (defaults filled in). No file is created
// before the first frame.
func New(cfg Config) (*Muxer, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m := &Muxer{cfg: cfg}
	for i, spec := range []struct {
		info *mux.TrackInfo
		dep  mux.FrameDepacketizer
	}{{cfg.Video, cfg.VideoDepacketizer}, {cfg.Audio, cfg.AudioDepacketizer}} {
		if spec.info == nil {
			continue
		}
		t, err := m.newTrack(*spec.info, spec.dep)
		if err != nil {
			return nil, err
		}
		m.tracks[i] = t
	}
	return m, nil
}

func (m *Muxer) newTrack(info mux.TrackInfo, dep mux.FrameDepacketizer) (*track, error) {
	t := &track{kind: info.Kind(), info: info}
	asm, err := depack.New(depack.Config{
		Track: info, Depacketizer: dep, ReorderWindow: m.cfg.ReorderWindow, MaxLatency: m.cfg.MaxLatency,
		OnFrame:         func(f depack.Frame) { m.onFrame(t, &f) },
		OnGap:           func(g depack.Gap) { t.gaps = append(t.gaps, trackGap{Gap: g}) },
		RequestKeyframe: m.requestKeyframe,
	})
	if err != nil {
		return nil, fmt.Errorf("rtpmux: %s track: %w", info.Kind(), err)
	}
	t.asm = asm
	return t, nil
}

// track returns the track of kind k, or nil.
func (m *Muxer) track(k mux.Kind) *track {
	switch k {
	case mux.Video:
		return m.tracks[0]
	case mux.Audio:
		return m.tracks[1]
	}
	return nil
}

// other returns the track that is not t, or nil.
func (m *Muxer) other(t *track) *track {
	if t == m.tracks[0] {
		return m.tracks[1]
	}
	return m.tracks[0]
}

// WritePacket records one RTP packet of the track of kind k that arrived at
// arrival (a monotonic clock shared by both tracks). The packet is not
// kept: its buffer may be reused once WritePacket returns. Bad packets are
// dropped and counted. The error is a writer error (fatal for the
// recording) or the track's own fatal error, such as mux.ErrReordering.
func (m *Muxer) WritePacket(k mux.Kind, pkt *rtp.Packet, arrival time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.track(k)
	switch {
	case m.closed:
		return errors.New("rtpmux: write packet: muxer closed")
	case m.err != nil:
		return m.err
	case t == nil:
		return fmt.Errorf("rtpmux: write packet: no %s track", k)
	case t.err != nil:
		return t.err
	}
	if err := t.asm.Push(pkt, arrival); err != nil {
		t.err = fmt.Errorf("rtpmux: %s track stopped: %w", k, err)
		m.cfg.Logger.Warn("track stopped", "kind", k.String(), "err", err)
		return t.err
	}
	m.release(false)
	return m.err
}

// NoteDropped tells the Muxer that the caller dropped packets of kind k
// (it fell behind) before the next one it writes: the hole this leaves is
// reported as a gap of cause mux.GapBackpressure instead of loss.
func (m *Muxer) NoteDropped(k mux.Kind) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if t := m.track(k); t != nil {
		t.asm.NoteDropped()
	}
}

// WriteSenderReport records an RTCP sender report of the track of kind k:
// the stream ssrc's RTP time rtpTime was the sender's wall clock ntpTime
// (NTP 32.32 format). Reports align the tracks when the second one starts.
func (m *Muxer) WriteSenderReport(k mux.Kind, ssrc uint32, ntpTime uint64, rtpTime uint32) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if t := m.track(k); t != nil {
		t.sr = senderReport{valid: true, ssrc: ssrc, ntp: ntpTime, rtp: rtpTime}
	}
}

// Position returns the recording time of the newest frame received (it is
// ahead of what has been written by up to the interleave window), and
// false before the first frame was written.
func (m *Muxer) Position() (time.Duration, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.latestRef - m.fileStart, m.started
}

// Close flushes every track, writes what is queued and finishes the
// current file. It returns that file's summary, ErrNoMedia if nothing was
// ever recorded, and joins the tracks' fatal errors (the file is finished
// regardless). Close is idempotent in effect: later calls return an error.
func (m *Muxer) Close() (mux.Summary, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return mux.Summary{}, errors.New("rtpmux: close: already closed")
	}
	m.closed = true
	var errs []error
	for _, t := range m.tracks {
		if t != nil && t.err == nil {
			if err := t.asm.Flush(); err != nil {
				t.err = fmt.Errorf("rtpmux: %s track stopped: %w", t.kind, err)
			}
		}
		if t != nil && t.err != nil {
			errs = append(errs, t.err)
		}
	}
	m.release(true)
	if !m.started {
		errs = append(errs, ErrNoMedia)
	}
	if m.w == nil { // nothing recorded, or a failed split left no writer
		return m.summary(mux.FileStats{}, maxDuration), errors.Join(append(errs, m.err)...)
	}
	stats, err := m.w.Close(0)
	m.w = nil
	if err != nil {
		errs = append(errs, fmt.Errorf("rtpmux: close writer: %w", err))
	}
	sum := m.summary(stats, maxDuration)
	m.logTotals()
	return sum, errors.Join(append(errs, m.err)...)
}

// logTotals logs counters that are not worth a line per event.
func (m *Muxer) logTotals() {
	for _, t := range m.tracks {
		if t != nil && (t.clamped > 0 || t.dropped > 0) {
			m.cfg.Logger.Info("track timing corrected", "kind", t.kind.String(),
				"clamped_frames", t.clamped, "dropped_frames", t.dropped)
		}
	}
}

// requestKeyframe forwards a keyframe request and counts it.
func (m *Muxer) requestKeyframe() {
	m.requests++
	if m.cfg.RequestKeyframe != nil {
		m.cfg.RequestKeyframe()
	}
}
