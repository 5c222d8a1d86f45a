// Package mux holds the vocabulary shared by kiroku's media pipeline: codecs,
// tracks, complete frames and the Writer contract that the MP4 and WebM
// writers fulfil.
//
// The pipeline is split into small packages below this one:
//
//   - mux/codec/*: one package per codec (h264, h265, vp8, vp9, av1, opus)
//     that turns the RTP payloads of one complete frame into container-ready
//     bytes and parses codec parameters.
//   - mux/depack: reordering, 64-bit timestamp unwrapping, frame assembly
//     and loss handling for one RTP stream.
//   - mux/mp4, mux/webm: crash-recoverable container writers.
//   - mux/rtpmux: one connection's audio and video RTP in, one file out
//     (alignment, interleaving, splitting, summary).
//   - mux/rtpdump: rtptools' rtpdump capture format plus kiroku's JSON sidecar.
//
// Nothing under mux opens network connections or files beyond the
// io.WriteSeeker / io.ReaderAt it is handed, so every part can be tested and
// benchmarked alone.
package mux

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Codec names a media codec as kiroku's capture sidecars and Sora spell it.
type Codec string

// The codecs kiroku records.
const (
	VP8  Codec = "VP8"
	VP9  Codec = "VP9"
	AV1  Codec = "AV1"
	H264 Codec = "H264"
	H265 Codec = "H265"
	Opus Codec = "opus"
)

// ParseCodec maps a codec name, in any letter case, to a Codec.
func ParseCodec(name string) (Codec, error) {
	for _, c := range []Codec{VP8, VP9, AV1, H264, H265, Opus} {
		if strings.EqualFold(name, string(c)) {
			return c, nil
		}
	}
	return "", fmt.Errorf("mux: unknown codec %q", name)
}

// Kind reports whether the codec carries video or audio.
func (c Codec) Kind() Kind {
	if c == Opus {
		return Audio
	}
	return Video
}

// Kind is a track's media kind.
type Kind uint8

// Media kinds.
const (
	Video Kind = iota + 1
	Audio
)

// String returns "video" or "audio".
func (k Kind) String() string {
	switch k {
	case Video:
		return "video"
	case Audio:
		return "audio"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// TrackInfo describes a track before its first frame arrives.
type TrackInfo struct {
	Codec     Codec
	ClockRate uint32 // RTP clock rate: 90000 for video, 48000 for Opus
	Channels  int    // audio channels (1 or 2); 0 for video
}

// Kind returns the track's media kind.
func (t TrackInfo) Kind() Kind { return t.Codec.Kind() }

// VideoConfig is the coded-stream description a container needs to build a
// sample entry / CodecPrivate. Depacketizers attach one to every keyframe;
// writers start a new sample description when it changes (see Equal).
type VideoConfig struct {
	Width, Height int

	// Record is the codec configuration record, byte for byte as the
	// containers store it: avcC for H.264 (ISO/IEC 14496-15 §5.3.3.1),
	// hvcC for H.265 (§8.3.3.1), av1C for AV1 (AV1-ISOBMFF §2.3.3). MP4
	// puts it in the sample entry, WebM in CodecPrivate. Empty for VP8/VP9.
	Record []byte

	// VP9 (and VP8) parameters for vpcC / WebM Colour: profile 0-3,
	// level as in vpcC (0 when unknown), bit depth 8/10/12,
	// chroma subsampling as in vpcC (0: 4:2:0 vertical, 1: 4:2:0 colocated,
	// 2: 4:2:2, 3: 4:4:4) and full-range flag.
	Profile           uint8
	Level             uint8
	BitDepth          uint8
	ChromaSubsampling uint8
	FullRange         bool
}

// Equal reports whether two configurations describe the same coded stream
// shape; a writer needs a new sample description when it is false.
func (c *VideoConfig) Equal(o *VideoConfig) bool {
	if c == nil || o == nil {
		return c == o
	}
	return c.Width == o.Width && c.Height == o.Height && bytes.Equal(c.Record, o.Record) &&
		c.Profile == o.Profile && c.Level == o.Level && c.BitDepth == o.BitDepth &&
		c.ChromaSubsampling == o.ChromaSubsampling && c.FullRange == o.FullRange
}

// Frame is one complete access unit, decodable once every earlier frame of
// its track since the last keyframe has been decoded. kiroku does not record
// B-frames, so presentation order equals decode order.
type Frame struct {
	// PTS is the frame's time on the file's timeline (0 = file start).
	// Within a track it never decreases.
	PTS time.Duration
	// Keyframe marks a random access point (always true for audio).
	Keyframe bool
	// Data is the container-ready bitstream: VP8/VP9 frames (VP9 spatial
	// layers joined into a superframe), AV1 temporal units in low-overhead
	// format with obu_size fields and no temporal delimiter, H.264/H.265
	// access units as 4-byte length-prefixed NAL units without parameter
	// sets, Opus packets. Data is only valid during the call it is passed
	// to; a writer that keeps it must copy it.
	Data []byte
	// Config describes the stream from this frame on. It is set on every
	// video keyframe and nil otherwise.
	Config *VideoConfig
}

// FileStats is what a writer reports about the file it finished.
type FileStats struct {
	Bytes       int64
	Duration    time.Duration // end of the last sample on the file's timeline
	VideoFrames int
	AudioFrames int
	Keyframes   int
	// Width and Height are the largest seen (what tkhd and the metadata JSON report).
	Width, Height int
	// ConfigChanges counts new sample descriptions after the first
	// (resolution or parameter-set changes).
	ConfigChanges int
}

// Writer is a container writer for one file holding at most one video and
// one audio track. Frames of each track arrive in PTS order; the two tracks
// are interleaved roughly by time (mux/rtpmux orders them).
//
// While writing, the file is recoverable after a crash once Flush returns,
// and the writer flushes by itself at least every 2 s of media.
type Writer interface {
	// WriteFrame appends a frame to the track of kind k.
	WriteFrame(k Kind, f Frame) error
	// Flush makes every frame written so far part of the recoverable file.
	Flush() error
	// Close finishes the file. end is the file's end on its timeline (the
	// instant the next split file starts); the last sample of each track
	// lasts until then. end <= the last PTS means "unknown": the writer
	// then gives the last sample its predecessor's duration.
	Close(end time.Duration) (FileStats, error)
}

// GapCause says why frames are missing from a track.
type GapCause string

// Causes of gaps in a recording.
const (
	GapLoss         GapCause = "loss"          // packets lost and not recovered
	GapSSRCChange   GapCause = "ssrc_change"   // the sender restarted its stream
	GapBackpressure GapCause = "backpressure"  // the recorder fell behind and dropped
	GapWaitKeyframe GapCause = "wait_keyframe" // stream started mid-GOP
	GapCodecError   GapCause = "codec_error"   // a frame could not be parsed
)

// Gap is a stretch of a track with no frames because of a fault; silence
// the sender chose (Opus DTX) is not a gap.
type Gap struct {
	Kind          Kind
	Offset        time.Duration // on the file's timeline
	Duration      time.Duration
	Cause         GapCause
	DroppedFrames int
}

// Summary describes a finished file for the metadata JSON and the CLI.
type Summary struct {
	FileStats
	Gaps []Gap
	// PacketsReceived / PacketsLost / PacketsDuplicate count RTP packets
	// of the listed streams.
	PacketsReceived  int
	PacketsLost      int
	PacketsDuplicate int
	FramesDropped    int
	KeyframeRequests int
}

// FrameInfo describes a frame produced by a FrameDepacketizer.
type FrameInfo struct {
	Keyframe bool
	// Config is set on keyframes (video): the stream description in force
	// from this frame on, built from in-band or earlier-seen parameters.
	Config *VideoConfig
	// SkipAtRandomAccess marks a frame that refers to pictures before the
	// last keyframe (an H.265 RASL picture, which belongs to a CRA or BLA
	// picture): it is decodable only when decoding did not start at that
	// keyframe, so a muxer that started (or restarted after a loss) there
	// must drop it.
	SkipAtRandomAccess bool
}

// FrameDepacketizer turns the RTP payloads of one complete frame into
// container-ready bytes for one codec. Implementations live in
// mux/codec/<codec> and keep per-stream state (for example the last H.264
// SPS/PPS), so each RTP stream needs its own instance.
type FrameDepacketizer interface {
	// AppendFrame appends the frame carried by payloads (every RTP payload
	// of one frame, in sequence order, none missing; for video all packets
	// sharing one RTP timestamp) to dst and returns the extended slice.
	// A malformed payload yields an error and leaves dst's contents up to
	// len(dst) untouched; it never panics.
	AppendFrame(dst []byte, payloads [][]byte) ([]byte, FrameInfo, error)
	// IsFrameStart reports whether payload can be the first packet of a
	// frame (VP8's S bit with partition 0, VP9's B bit, AV1's Z bit clear,
	// an H.264/H.265 FU start or a non-fragment NAL unit). The assembler uses
	// it to detect a lost first packet.
	IsFrameStart(payload []byte) bool
}

// ErrReordering reports a video stream whose frames need reordering
// (B-frames). kiroku writes no composition offsets, so such a track fails
// with this error instead of producing a file that plays wrongly.
var ErrReordering = errors.New("mux: stream uses B-frames (frame reordering), which kiroku does not record")

// ErrUnsupported reports a codec, packetization mode or container
// combination that kiroku cannot write (for example H.265 in WebM).
var ErrUnsupported = errors.New("mux: unsupported")

// ErrMissingParameterSets reports an H.264/H.265 keyframe whose parameter
// sets (SPS/PPS, or VPS/SPS/PPS) were neither in the stream before it nor
// in the SDP's sprop parameters; the codec packages' errors wrap it.
var ErrMissingParameterSets = errors.New("mux: keyframe without its parameter sets")
