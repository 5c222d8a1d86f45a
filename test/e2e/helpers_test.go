package e2e

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// member is one page connected to a channel with sora-js-sdk.
type member struct {
	t    *testing.T
	name string
	p    *page
	id   string // connection_id
	role string
}

type connectArgs struct {
	SignalingURL string `json:"signalingUrl"`
	ChannelID    string `json:"channelId"`
	Role         string `json:"role"`
	Codec        string `json:"codec,omitempty"`
	Metadata     any    `json:"metadata"`
	Audio        bool   `json:"audio"`
	Video        bool   `json:"video"`
	DataChannels []any  `json:"dataChannels,omitempty"`
	// DataChannelSignaling and IgnoreWS select DataChannel signaling.
	DataChannelSignaling bool   `json:"dataChannelSignaling,omitempty"`
	IgnoreWS             bool   `json:"ignoreDisconnectWebSocket,omitempty"`
	Simulcast            bool   `json:"simulcast,omitempty"`
	SimulcastRID         string `json:"simulcastRid,omitempty"`
	// Capture, if set, is the camera mode the page publishes.
	Capture *captureMode `json:"capture,omitempty"`
	// ICEServerFilter, if set, keeps only the offered ICE server URLs
	// matching this regular expression (forcing TURN-TCP or TURN-TLS).
	ICEServerFilter string `json:"iceServerFilter,omitempty"`
	// Spotlight, if set, connects with spotlight: true; Voice replaces
	// the page's audio with a tone the test turns on and off (setVoice).
	Spotlight *spotlightArgs `json:"spotlight,omitempty"`
	Voice     bool           `json:"voice,omitempty"`
}

// captureMode is a page's camera size and frame rate.
type captureMode struct {
	Width     int `json:"width"`
	Height    int `json:"height"`
	FrameRate int `json:"frameRate"`
}

type connectResult struct {
	ConnectionID string `json:"connectionId"`
	Message      string `json:"message"`
	Code         *int   `json:"code"`
	Reason       string `json:"reason"`
}

// openPage opens the test page; it is closed when the test ends.
func openPage(t *testing.T) *page {
	t.Helper()
	p, err := shared.browser.open(shared.base + "/page.html")
	if err != nil {
		t.Fatalf("open page: %v", err)
	}
	t.Cleanup(func() { _ = p.close() })
	return p
}

// join opens a page and connects it; it fails the test if connect fails.
func join(t *testing.T, name, channel, role, codec string) *member {
	t.Helper()
	return joinWith(t, name, connectArgs{SignalingURL: shared.ws, ChannelID: channel, Role: role, Codec: codec,
		Metadata: map[string]string{"name": name}, Audio: true, Video: true})
}

// joinWith is join with every connect option given.
func joinWith(t *testing.T, name string, args connectArgs) *member {
	t.Helper()
	p := openPage(t)
	var res connectResult
	role := args.Role
	if err := p.call("connect", args, &res); err != nil {
		t.Fatalf("%s connect: %v", name, err)
	}
	if res.ConnectionID == "" {
		t.Fatalf("%s connect failed: %+v", name, res)
	}
	return &member{t: t, name: name, p: p, id: res.ConnectionID, role: role}
}

type inboundStats struct {
	FramesDecoded int    `json:"framesDecoded"`
	AudioPackets  int    `json:"audioPackets"`
	VideoCodec    string `json:"videoCodec"`
	FrameWidth    int    `json:"frameWidth"` // of the last decoded frame
}

func (m *member) inbound() map[string]inboundStats {
	m.t.Helper()
	var out map[string]inboundStats
	if err := m.p.call("inbound", nil, &out); err != nil {
		m.t.Fatalf("%s getStats: %v", m.name, err)
	}
	return out
}

type pageState struct {
	ConnectionID string           `json:"connectionId"`
	Notifies     []map[string]any `json:"notifies"`
	Pushes       []map[string]any `json:"pushes"`
	Switched     bool             `json:"switched"`
	Messages     []struct {
		Label string `json:"label"`
		Text  string `json:"text"`
	} `json:"messages"`
	Streams map[string]struct {
		Tracks  map[string]string `json:"tracks"`
		Removed []string          `json:"removed"`
		Left    *int              `json:"left"`  // tracks still in the stream after the last removal
		Ended   []string          `json:"ended"` // tracks whose readyState is "ended"
	} `json:"streams"`
	Disconnect *struct {
		Code   *int   `json:"code"`
		Reason string `json:"reason"`
		Title  string `json:"title"`
	} `json:"disconnect"`
}

func (m *member) state() pageState {
	m.t.Helper()
	var s pageState
	if err := m.p.eval("kiroku.state()", &s); err != nil {
		m.t.Fatalf("%s state: %v", m.name, err)
	}
	return s
}

func (m *member) disconnect() {
	m.t.Helper()
	if err := m.p.call("disconnect", nil, nil); err != nil {
		m.t.Fatalf("%s disconnect: %v", m.name, err)
	}
}

// waitFor polls cond every 250 ms until it returns "" (success) or the
// timeout passes; the last returned text explains the failure.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		why := cond()
		if why == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: %s", what, why)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// expectFlow waits until rx decodes tx's video with the expected codec,
// receives its audio, and its decoded frame count keeps growing.
func expectFlow(t *testing.T, rx, tx *member, codec string) {
	t.Helper()
	var base int
	waitFor(t, fmt.Sprintf("%s decoding %s", rx.name, tx.name), 45*time.Second, func() string {
		st, ok := rx.inbound()[tx.id]
		switch {
		case !ok:
			return "no inbound stream"
		case st.FramesDecoded < 5 || st.AudioPackets < 10:
			return fmt.Sprintf("frames %d audio packets %d", st.FramesDecoded, st.AudioPackets)
		case codec != "" && st.VideoCodec != "video/"+codec:
			return "codec " + st.VideoCodec
		}
		base = st.FramesDecoded
		return ""
	})
	waitFor(t, fmt.Sprintf("%s still decoding %s", rx.name, tx.name), 20*time.Second, func() string {
		if n := rx.inbound()[tx.id].FramesDecoded; n < base+5 {
			return fmt.Sprintf("frames %d, was %d", n, base)
		}
		return ""
	})
}

// expectRemoved waits until rx's stream of tx lost its audio and video
// tracks: the SDK's removetrack fired for both, the stream is empty and
// both tracks have ended (the SFU rejected their m-lines).
func expectRemoved(t *testing.T, rx, tx *member) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%s losing %s", rx.name, tx.name), 20*time.Second, func() string {
		s, ok := rx.state().Streams[tx.id]
		if !ok || !slices.Contains(s.Removed, "video") || !slices.Contains(s.Removed, "audio") ||
			s.Left == nil || *s.Left != 0 || !slices.Contains(s.Ended, "video") || !slices.Contains(s.Ended, "audio") {
			return fmt.Sprintf("stream %+v", s)
		}
		return ""
	})
}
