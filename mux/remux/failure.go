package remux

import (
	"fmt"

	"github.com/kiroku-sfu/kiroku/mux"
	"github.com/kiroku-sfu/kiroku/mux/depack"
	"github.com/kiroku-sfu/kiroku/mux/rtpdump"
	"github.com/kiroku-sfu/kiroku/mux/rtpmux"
)

// TrackFailure is a track the capture announced that recorded nothing, or
// far less than its packets imply (see depack.Stats.VideoFailure). The
// file still holds whatever the other track recorded.
type TrackFailure struct {
	Kind  mux.Kind
	Codec mux.Codec
	SSRC  uint32 // the first SSRC the sidecar lists for the track
	Cause depack.Failure
}

// Error names the track and the cause.
func (f TrackFailure) Error() string {
	return fmt.Sprintf("%s track (%s, SSRC %d) failed: %s: %s", f.Kind, f.Codec, f.SSRC, f.Cause, f.Cause.Describe())
}

// trackFailures judges the video track of a finished muxer against the
// sidecar that announced it. Audio has no such verdict: every packet is a
// frame, and its losses are gaps.
func trackFailures(sc rtpdump.Sidecar, m *rtpmux.Muxer) []TrackFailure {
	for _, st := range sc.Streams {
		if st.TrackInfo().Kind() != mux.Video {
			continue
		}
		if cause := m.Stats(mux.Video).VideoFailure(); cause != "" {
			return []TrackFailure{{Kind: mux.Video, Codec: st.Codec, SSRC: st.SSRC, Cause: cause}}
		}
		return nil
	}
	return nil
}
