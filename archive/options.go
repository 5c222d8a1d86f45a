package archive

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Errors the recording API maps to HTTP statuses.
var (
	ErrInvalid  = errors.New("invalid recording request") // 400
	ErrNotFound = errors.New("not found")                 // 404
	ErrConflict = errors.New("conflict")                  // 409
)

// Options are one recording's settings, from StartRecording or from the
// session.created webhook reply. Zero values mean "not given".
type Options struct {
	ExpireTime    int64 // seconds; 0 = no expiry
	SplitDuration int64 // seconds; 0 = no splitting
	SplitOnly     bool
	Metadata      json.RawMessage
	Format        Format // "" = the configured default
}

// Output says which files a recording writes.
type Output struct {
	Single bool
	Split  bool
}

// Resolve validates o against the configuration's limits, fills the
// default format, and works out the output per Sora's table:
//
//	split_only  split_duration  recording_dual_output  files
//	false       unset           any                    single
//	true        set             any                    split only
//	false       set             true                   single + split
//
// split_duration without split_only on a server without dual output is
// rejected rather than silently ignored.
func (c Config) Resolve(o Options) (Options, Output, error) {
	if o.Format == "" {
		o.Format = c.DefaultFormat
	}
	if _, err := ParseFormat(string(o.Format)); err != nil {
		return o, Output{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if o.ExpireTime < 0 || o.ExpireTime > c.MaxExpireTime {
		return o, Output{}, fmt.Errorf("%w: expire_time must be 1 to %d seconds, got %d", ErrInvalid, c.MaxExpireTime, o.ExpireTime)
	}
	if o.SplitDuration < 0 || o.SplitDuration > c.MaxSplitDuration {
		return o, Output{}, fmt.Errorf("%w: split_duration must be 1 to %d seconds, got %d", ErrInvalid, c.MaxSplitDuration, o.SplitDuration)
	}
	if len(o.Metadata) > 0 && !json.Valid(o.Metadata) {
		return o, Output{}, fmt.Errorf("%w: metadata is not JSON", ErrInvalid)
	}
	switch {
	case o.SplitOnly && o.SplitDuration == 0:
		return o, Output{}, fmt.Errorf("%w: split_only requires split_duration", ErrInvalid)
	case o.SplitOnly:
		return o, Output{Split: true}, nil
	case o.SplitDuration == 0:
		return o, Output{Single: true}, nil
	case c.DualOutput:
		return o, Output{Single: true, Split: true}, nil
	}
	return o, Output{}, fmt.Errorf("%w: split_duration without split_only needs recording_dual_output = true in the configuration", ErrInvalid)
}
