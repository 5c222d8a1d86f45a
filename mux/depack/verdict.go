package depack

// Failure names why a video track recorded nothing, or far less than its
// packets imply. A track that lost frames only to packet loss has no
// Failure: its losses are reported as gaps.
type Failure string

// Failures of a video track, as the CLI, logs and archive stats name them.
const (
	// FailureNoPackets: the track was announced but no packet arrived.
	FailureNoPackets Failure = "no_packets"
	// FailureNoKeyframe: packets arrived but no complete keyframe did.
	FailureNoKeyframe Failure = "no_keyframe"
	// FailureNoParameterSets: keyframes arrived but their H.264/H.265
	// parameter sets were neither in-band nor in the SDP's sprop.
	FailureNoParameterSets Failure = "no_parameter_sets"
	// FailureUnsupported: the depacketizer refused the stream's frames
	// (malformed, or a packetization or feature kiroku cannot write, such
	// as B-frames, which stop the track).
	FailureUnsupported Failure = "unsupported_stream"
)

// VideoFailure judges a video track's counters. It fails when no packet
// arrived, when no frame was written, or when more frames were dropped
// because the depacketizer refused a frame (see FramesUndecodable) than
// were written, that is, when the codec and not the network lost more
// than half of the frames that arrived. The cause is the most specific
// one the counters show: missing parameter sets, then refused frames,
// then no keyframe. It returns "" for a track that is fine.
func (s Stats) VideoFailure() Failure {
	switch {
	case s.PacketsReceived == 0:
		return FailureNoPackets
	case s.FramesEmitted > 0 && s.FramesUndecodable <= s.FramesEmitted:
		return ""
	case s.KeyframesNoParams > 0:
		return FailureNoParameterSets
	case s.FramesCodecError > 0:
		return FailureUnsupported
	}
	return FailureNoKeyframe
}

// Describe says what a failure means, for a log line or an error message.
func (f Failure) Describe() string {
	switch f {
	case FailureNoPackets:
		return "no packet arrived"
	case FailureNoKeyframe:
		return "no keyframe arrived complete, so no frame could be written"
	case FailureNoParameterSets:
		return "no parameter sets (SPS/PPS, or VPS/SPS/PPS) in the stream or in the SDP's sprop parameters, so no keyframe could be written"
	case FailureUnsupported:
		return "unsupported stream: the depacketizer refused its frames"
	}
	return string(f)
}
