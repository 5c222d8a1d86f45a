package main

import (
	"encoding/json"
	"io"

	"github.com/kiroku-sfu/kiroku/mux"
	"github.com/kiroku-sfu/kiroku/mux/remux"
)

// summaryJSON is `sfu mux -json` output.
type summaryJSON struct {
	File             string    `json:"file"`
	DurationMS       int64     `json:"duration_ms"`
	Bytes            int64     `json:"bytes"`
	VideoFrames      int       `json:"video_frames"`
	AudioFrames      int       `json:"audio_frames"`
	Keyframes        int       `json:"keyframes"`
	Width            int       `json:"width"`
	Height           int       `json:"height"`
	ConfigChanges    int       `json:"config_changes"`
	PacketsReceived  int       `json:"packets_received"`
	PacketsLost      int       `json:"packets_lost"`
	PacketsDuplicate int       `json:"packets_duplicate"`
	PacketsIgnored   int       `json:"packets_ignored"`
	FramesDropped    int       `json:"frames_dropped"`
	Gaps             []gapJSON `json:"gaps"`
	// Failures lists the tracks that recorded nothing or far less than
	// their packets imply (the exit status is then 3).
	Failures []failureJSON `json:"failures"`
}

type failureJSON struct {
	Kind    string `json:"kind"`
	Codec   string `json:"codec"`
	SSRC    uint32 `json:"ssrc"`
	Cause   string `json:"cause"`
	Message string `json:"message"`
}

type gapJSON struct {
	Kind          string `json:"kind"`
	OffsetMS      int64  `json:"offset_ms"`
	DurationMS    int64  `json:"duration_ms"`
	Cause         string `json:"cause"`
	DroppedFrames int    `json:"dropped_frames"`
}

func writeSummaryJSON(w io.Writer, path string, s mux.Summary, ignored int, failures []remux.TrackFailure) {
	out := summaryJSON{
		File: path, DurationMS: s.Duration.Milliseconds(), Bytes: s.Bytes,
		VideoFrames: s.VideoFrames, AudioFrames: s.AudioFrames, Keyframes: s.Keyframes,
		Width: s.Width, Height: s.Height, ConfigChanges: s.ConfigChanges,
		PacketsReceived: s.PacketsReceived, PacketsLost: s.PacketsLost, PacketsDuplicate: s.PacketsDuplicate,
		PacketsIgnored: ignored, FramesDropped: s.FramesDropped, Gaps: []gapJSON{}, Failures: []failureJSON{},
	}
	for _, f := range failures {
		out.Failures = append(out.Failures, failureJSON{Kind: f.Kind.String(), Codec: string(f.Codec), SSRC: f.SSRC,
			Cause: string(f.Cause), Message: f.Error()})
	}
	for _, g := range s.Gaps {
		out.Gaps = append(out.Gaps, gapJSON{Kind: g.Kind.String(), OffsetMS: g.Offset.Milliseconds(),
			DurationMS: g.Duration.Milliseconds(), Cause: string(g.Cause), DroppedFrames: g.DroppedFrames})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(out)
}
