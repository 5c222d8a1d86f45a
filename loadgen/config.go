package loadgen

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"time"
)

// Config describes a load: publishers and subscribers in one channel.
type Config struct {
	// URL is the signaling endpoint, ws://HOST:PORT/signaling.
	URL string
	// Channel is the channel_id every client joins.
	Channel string
	// Publishers is the number of sendonly clients, each sending one
	// video track (sendrecv with Simulcast).
	Publishers int
	// Subscribers is the number of recvonly clients; each receives every
	// publisher's track.
	Subscribers int
	// VideoCodecs are the codec_types publishers send (VP8, VP9, AV1,
	// H264, H265), cycled over them: publisher i sends
	// VideoCodecs[i%len(VideoCodecs)]. Empty: every publisher sends VP8.
	// Payloads are stamps, not media, in every codec (see [PutStamp]).
	VideoCodecs []string
	// Simulcast makes every publisher a sendrecv client publishing its
	// video in three layers (rids r0, r1, r2 at Rate/8, Rate/3 and Rate
	// packets per second, as a browser's 180p, 360p and 720p layers), and
	// every client (subscribers and publishers) ask for r2, so a publisher
	// also receives every other one. Layers start, and restart on the
	// server's PLI or FIR, with a VP8 keyframe header
	// ([PutKeyframeStamp]), since a server moves a receiver onto a layer
	// only at a keyframe: VP8 only.
	Simulcast bool
	// WHIP makes every publisher publish by WHIP (RFC 9725) at the
	// server's /whip/{Channel}, next to URL's /signaling; subscribers
	// still use the WebSocket signaling. Not with Simulcast.
	WHIP bool
	// TURN makes every WebSocket client relay through the offer's TURN
	// server over this transport (TURNUDP, TURNTCP); empty: direct.
	TURN string
	// Rate is the packets per second each publisher sends (of its r2
	// layer with Simulcast).
	Rate int
	// PayloadBytes is the RTP payload size; with Rate it sets the bit rate.
	PayloadBytes int
	// LocalAddress restricts the clients' ICE to this IPv4 address.
	LocalAddress string
	// ConnectTimeout bounds each client's connection.
	ConnectTimeout time.Duration
	// Logger receives logs; nil discards them.
	Logger *slog.Logger
	// Now is the clock used for stamps and delays; nil means time.Now.
	Now func() time.Time
}

// DefaultConfig returns one publisher and one subscriber in channel
// "loadgen", 100 packets of 1000 bytes per second (0.8 Mbit/s).
func DefaultConfig() Config {
	return Config{Channel: "loadgen", Publishers: 1, Subscribers: 1, Rate: 100, PayloadBytes: 1000,
		ConnectTimeout: 20 * time.Second}
}

// PublisherCodec is the codec_type publisher i sends.
func (c *Config) PublisherCodec(i int) string {
	if len(c.VideoCodecs) == 0 {
		return "VP8"
	}
	return c.VideoCodecs[i%len(c.VideoCodecs)]
}

// receivedLayer is the simulcast layer every client asks for: r2, at the
// full rate, so that a simulcast load forwards what a plain one does.
const receivedLayer = simulcastLayers - 1

// maxPayloadBytes keeps a packet inside a 1500-byte MTU with SRTP and
// header extensions.
const maxPayloadBytes = 1200

// Validate reports every invalid setting.
func (c *Config) Validate() error {
	var errs []error
	if u, err := url.Parse(c.URL); err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
		errs = append(errs, fmt.Errorf("url %q is not a ws:// or wss:// URL", c.URL))
	}
	if c.Channel == "" {
		errs = append(errs, errors.New("channel is empty"))
	}
	if c.Publishers < 1 || c.Subscribers < 0 {
		errs = append(errs, fmt.Errorf("need at least one publisher and no negative subscribers (%d, %d)",
			c.Publishers, c.Subscribers))
	}
	if c.Rate < 1 || c.Rate > 100_000 {
		errs = append(errs, fmt.Errorf("rate %d is outside 1..100000 packets/s", c.Rate))
	}
	if c.PayloadBytes < StampBytes || c.PayloadBytes > maxPayloadBytes {
		errs = append(errs, fmt.Errorf("payload %d bytes is outside %d..%d", c.PayloadBytes, StampBytes, maxPayloadBytes))
	}
	if ip := net.ParseIP(c.LocalAddress); c.LocalAddress != "" && (ip == nil || ip.To4() == nil) {
		errs = append(errs, fmt.Errorf("local address %q is not an IPv4 address", c.LocalAddress))
	}
	for _, codec := range c.VideoCodecs {
		if _, ok := videoCodecs[codec]; !ok {
			errs = append(errs, fmt.Errorf("video codec %q is not one of VP8, VP9, AV1, H264, H265", codec))
		} else if c.Simulcast && codec != "VP8" {
			errs = append(errs, fmt.Errorf("simulcast publishers send VP8 keyframe headers only, not %s", codec))
		}
	}
	if c.TURN != TURNOff && c.TURN != TURNUDP && c.TURN != TURNTCP {
		errs = append(errs, fmt.Errorf("turn %q is not \"\", %q or %q", c.TURN, TURNUDP, TURNTCP))
	}
	if c.Simulcast && c.WHIP {
		errs = append(errs, errors.New("WHIP publishers send one stream: not with simulcast"))
	}
	if c.Simulcast && c.PayloadBytes < KeyframeStampBytes {
		errs = append(errs, fmt.Errorf("simulcast payload %d bytes holds no keyframe stamp (%d)", c.PayloadBytes, KeyframeStampBytes))
	}
	if c.ConnectTimeout <= 0 {
		errs = append(errs, errors.New("connect timeout must be positive"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("loadgen config: %w", err)
	}
	return nil
}
