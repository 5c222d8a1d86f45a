// Package codec chooses the per-codec depacketizer for a stream. The
// codecs themselves live in the sub-packages h264, h265, vp8, vp9, av1 and
// opus, each turning the RTP payloads of one frame into container-ready
// bytes.
package codec

import (
	"fmt"

	"github.com/kiroku-sfu/kiroku/mux"
	"github.com/kiroku-sfu/kiroku/mux/codec/av1"
	"github.com/kiroku-sfu/kiroku/mux/codec/h264"
	"github.com/kiroku-sfu/kiroku/mux/codec/h265"
	"github.com/kiroku-sfu/kiroku/mux/codec/opus"
	"github.com/kiroku-sfu/kiroku/mux/codec/vp8"
	"github.com/kiroku-sfu/kiroku/mux/codec/vp9"
)

// NewDepacketizer returns a fresh depacketizer for one stream of codec c.
// fmtp is the stream's SDP format parameters; packetization modes kiroku
// cannot read (H.264 interleaved mode, H.265 with decoding order numbers)
// are refused here, before any packet arrives. H.264 and H.265 parameter
// sets in the fmtp (sprop-parameter-sets, sprop-level-parameter-sets,
// sprop-vps/sps/pps) seed the depacketizer, so a stream that never sends
// them in-band still gets its configuration record and size; in-band ones
// replace them. Malformed sprop entries are skipped: if the stream then
// has no usable parameter sets, its keyframes fail with
// mux.ErrMissingParameterSets and the track reports that cause.
func NewDepacketizer(c mux.Codec, fmtp string) (mux.FrameDepacketizer, error) {
	switch c {
	case mux.VP8:
		return vp8.NewDepacketizer(), nil
	case mux.VP9:
		return vp9.NewDepacketizer(), nil
	case mux.AV1:
		return av1.NewDepacketizer(), nil
	case mux.H264:
		if err := h264.CheckFmtp(fmtp); err != nil {
			return nil, err
		}
		d := h264.NewDepacketizer()
		_ = d.Seed(fmtp) // skipped entries show as missing parameter sets
		return d, nil
	case mux.H265:
		if err := h265.CheckFmtp(fmtp); err != nil {
			return nil, err
		}
		d := h265.NewDepacketizer()
		_ = d.Seed(fmtp) // skipped entries show as missing parameter sets
		return d, nil
	case mux.Opus:
		return opus.NewDepacketizer(), nil
	}
	return nil, fmt.Errorf("codec: %q: %w", c, mux.ErrUnsupported)
}
