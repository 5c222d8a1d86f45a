package rtpdump

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/kiroku-sfu/kiroku/mux"
)

// maxSidecarSize bounds how much of a sidecar file is read.
const maxSidecarSize = 1 << 20

// Sidecar is the JSON description stored next to a capture as NAME.json:
//
//	{"description": "...", "streams": [{"ssrc": N, "kind": "video"|"audio",
//	  "codec": "VP8"|"VP9"|"AV1"|"H264"|"H265"|"opus", "payload_type": N,
//	  "clock_rate": N, "channels": N, "fmtp": "..."}]}
//
// Packets of SSRCs not listed (RTX, bandwidth probing) are to be ignored.
//
// A sender may change its SSRC mid-capture (a restart). The sidecar then
// lists every SSRC it used, each with the same kind, codec, clock rate and
// channels. Consumers treat all streams of one kind as a single track and
// take them in the order in which their SSRCs first appear in the capture;
// an SSRC change is a discontinuity in that track (new sequence numbers and
// timestamps), not a new track.
type Sidecar struct {
	// Description says how the capture was made and what was done to it.
	Description string `json:"description"`
	// Streams lists the RTP streams a consumer should read.
	Streams []Stream `json:"streams"`
}

// Stream describes one RTP stream (one SSRC) of a capture.
type Stream struct {
	// SSRC identifies the stream's RTP packets and sender reports.
	SSRC uint32 `json:"ssrc"`
	// Kind is "video" or "audio" and must match Codec.
	Kind string `json:"kind"`
	// Codec is spelt as mux spells it ("VP8", "opus", ...); Validate
	// accepts any letter case and normalises it.
	Codec mux.Codec `json:"codec"`
	// PayloadType is the RTP payload type of the stream's packets.
	PayloadType uint8 `json:"payload_type"`
	// ClockRate is the RTP clock rate: 90000 for video, 48000 for Opus.
	ClockRate uint32 `json:"clock_rate"`
	// Channels is 1 or 2 for audio and 0 for video.
	Channels int `json:"channels"`
	// Fmtp is the SDP a=fmtp parameter string for the payload type.
	Fmtp string `json:"fmtp"`
}

// TrackInfo returns the stream's track description for the muxers.
func (s Stream) TrackInfo() mux.TrackInfo {
	return mux.TrackInfo{Codec: s.Codec, ClockRate: s.ClockRate, Channels: s.Channels}
}

// Stream returns the stream with the given SSRC.
func (s *Sidecar) Stream(ssrc uint32) (Stream, bool) {
	for _, st := range s.Streams {
		if st.SSRC == ssrc {
			return st, true
		}
	}
	return Stream{}, false
}

// Validate checks the sidecar and normalises codec names to mux's spelling.
func (s *Sidecar) Validate() error {
	if len(s.Streams) == 0 {
		return errors.New("rtpdump: sidecar lists no streams")
	}
	first := map[string]Stream{}
	seen := map[uint32]bool{}
	for i := range s.Streams {
		st := &s.Streams[i]
		if err := st.validate(); err != nil {
			return fmt.Errorf("rtpdump: sidecar stream %d (ssrc %d): %w", i, st.SSRC, err)
		}
		if seen[st.SSRC] {
			return fmt.Errorf("rtpdump: sidecar stream %d: ssrc %d listed twice", i, st.SSRC)
		}
		seen[st.SSRC] = true
		f, ok := first[st.Kind]
		if !ok {
			first[st.Kind] = *st
			continue
		}
		if f.Codec != st.Codec || f.ClockRate != st.ClockRate || f.Channels != st.Channels {
			return fmt.Errorf("rtpdump: sidecar stream %d (ssrc %d): %s streams differ in codec, clock rate or channels, so they cannot form one track", i, st.SSRC, st.Kind)
		}
	}
	return nil
}

// validate checks one stream and normalises its codec name.
func (st *Stream) validate() error {
	c, err := mux.ParseCodec(string(st.Codec))
	if err != nil {
		return err
	}
	st.Codec = c
	if st.Kind != c.Kind().String() {
		return fmt.Errorf("kind %q does not match codec %s (%s)", st.Kind, c, c.Kind())
	}
	if st.PayloadType > 127 {
		return fmt.Errorf("payload type %d outside 0-127", st.PayloadType)
	}
	if st.ClockRate == 0 {
		return errors.New("clock rate must be > 0")
	}
	switch {
	case c.Kind() == mux.Audio && (st.Channels < 1 || st.Channels > 2):
		return fmt.Errorf("audio channels %d outside 1-2", st.Channels)
	case c.Kind() == mux.Video && st.Channels != 0:
		return fmt.Errorf("video channels %d, want 0", st.Channels)
	}
	return nil
}

// ParseSidecar decodes and validates a sidecar. Unknown fields are errors,
// so that a misspelt key is not silently dropped.
func ParseSidecar(data []byte) (Sidecar, error) {
	var s Sidecar
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return Sidecar{}, fmt.Errorf("rtpdump: decode sidecar: %w", err)
	}
	if dec.More() {
		return Sidecar{}, errors.New("rtpdump: decode sidecar: data after the JSON object")
	}
	if err := s.Validate(); err != nil {
		return Sidecar{}, err
	}
	return s, nil
}

// LoadSidecar reads, decodes and validates the sidecar file at path.
func LoadSidecar(path string) (Sidecar, error) {
	f, err := os.Open(path)
	if err != nil {
		return Sidecar{}, fmt.Errorf("rtpdump: load sidecar: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSidecarSize+1))
	if err != nil {
		return Sidecar{}, fmt.Errorf("rtpdump: load sidecar %s: %w", path, err)
	}
	if len(data) > maxSidecarSize {
		return Sidecar{}, fmt.Errorf("rtpdump: load sidecar %s: larger than %d bytes", path, maxSidecarSize)
	}
	s, err := ParseSidecar(data)
	if err != nil {
		return Sidecar{}, fmt.Errorf("%w (file %s)", err, path)
	}
	return s, nil
}

// MarshalIndent encodes the sidecar as indented JSON with a final newline,
// the form in which captures are stored.
func (s *Sidecar) MarshalIndent() ([]byte, error) {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("rtpdump: encode sidecar: %w", err)
	}
	return append(b, '\n'), nil
}
