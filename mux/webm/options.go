package webm

import (
	"fmt"
	"log/slog"
	"time"
)

// Limits on how long data may wait in memory before it reaches the file.
const (
	// DefaultFlushInterval is used when Options.FlushInterval is zero.
	DefaultFlushInterval = time.Second
	// MaxFlushInterval is the longest stretch of media kept unwritten.
	MaxFlushInterval = 2 * time.Second
)

// Cluster timing. Block timecodes are signed 16-bit ms offsets from their
// cluster's time, so a cluster must end before 32.767 s.
const (
	maxBlockRel = 32767
	minBlockRel = -32768
	// keyframeRequestAfter is how long a cluster with video may run before
	// the writer asks for a keyframe, leaving the sender ~2.7 s to answer.
	keyframeRequestAfter = 30000
	// audioClusterSpan bounds clusters that hold no video, so audio-only
	// files (and audio before video starts) get a cue every few seconds.
	audioClusterSpan = 5000
	// maxBuffered bounds the bytes held in memory between writes.
	maxBuffered = 4 << 20
)

// Options tunes a Writer. The zero value is ready to use.
type Options struct {
	// FlushInterval is the most media time the writer keeps in memory
	// before writing it to the file: 0 means DefaultFlushInterval; more
	// than MaxFlushInterval is an error.
	FlushInterval time.Duration
	// RequestKeyframe, when set, is called once per cluster when it has
	// run 30 s without a video keyframe, so the sender can provide one
	// before the 32.767 s cluster limit forces a cluster to start on a
	// non-keyframe. It is called from WriteFrame and must not block or
	// call back into the Writer.
	RequestKeyframe func()
	// OpusPreSkip is the Opus pre-skip in 48 kHz samples written to the
	// OpusHead and CodecDelay. RTP carries none, and RTP timestamps already
	// place every packet, so the default is 0.
	OpusPreSkip uint16
	// Logger receives rare events (a cluster forced to start without a
	// keyframe). nil discards them.
	Logger *slog.Logger
}

// withDefaults validates o and fills in defaults.
func (o Options) withDefaults() (Options, error) {
	switch {
	case o.FlushInterval < 0:
		return o, fmt.Errorf("webm: negative flush interval %v", o.FlushInterval)
	case o.FlushInterval == 0:
		o.FlushInterval = DefaultFlushInterval
	case o.FlushInterval > MaxFlushInterval:
		return o, fmt.Errorf("webm: flush interval %v exceeds %v", o.FlushInterval, MaxFlushInterval)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}
