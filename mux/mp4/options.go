package mp4

import (
	"fmt"
	"time"
)

// Defaults and limits of Options.
const (
	DefaultFlushInterval       = time.Second
	MaxFlushInterval           = 2 * time.Second
	DefaultReservedHeaderBytes = 512 << 10
	minReservedHeaderBytes     = 4 << 10
	maxReservedHeaderBytes     = 64 << 20
)

// Options tunes a Writer. The zero value gives the defaults.
type Options struct {
	// FlushInterval is the most media time a fragment spans before it is
	// written (default 1 s, at most 2 s).
	FlushInterval time.Duration
	// ReservedHeaderBytes is the room kept after ftyp for the moov (while
	// writing: the init moov; when finished: the progressive moov if it
	// fits). Default 512 KiB, which holds the sample tables of 10 to 30
	// minutes of 30 fps video with Opus audio (depending on how regular the
	// timestamps are); longer files get their moov appended at the end.
	ReservedHeaderBytes int

	// forceCo64 makes the finished file use 64-bit chunk offsets (tests).
	forceCo64 bool
}

// withDefaults fills zero fields and validates the rest.
func (o Options) withDefaults() (Options, error) {
	if o.FlushInterval == 0 {
		o.FlushInterval = DefaultFlushInterval
	}
	if o.FlushInterval < 0 || o.FlushInterval > MaxFlushInterval {
		return o, fmt.Errorf("mp4 options: FlushInterval %v outside (0, %v]", o.FlushInterval, MaxFlushInterval)
	}
	if o.ReservedHeaderBytes == 0 {
		o.ReservedHeaderBytes = DefaultReservedHeaderBytes
	}
	if o.ReservedHeaderBytes < minReservedHeaderBytes || o.ReservedHeaderBytes > maxReservedHeaderBytes {
		return o, fmt.Errorf("mp4 options: ReservedHeaderBytes %d outside [%d, %d]",
			o.ReservedHeaderBytes, minReservedHeaderBytes, maxReservedHeaderBytes)
	}
	return o, nil
}
