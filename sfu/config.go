package sfu

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"
)

// Config holds the SFU's settings. Start from [DefaultConfig].
type Config struct {
	// ICEAddress is the IPv4 address announced in ICE candidates
	// (sora.conf ipv4_address). When set, only this address is used for
	// media: the SFU gathers host candidates on it alone.
	ICEAddress string `conf:"ipv4_address"`
	// IPv6 allows IPv6 host candidates (sora.conf ipv6).
	IPv6 bool `conf:"ipv6"`
	// UDPPort is the one UDP port every connection's media shares
	// (one socket per local address). 0 gives each connection its own
	// port from UDPPortMin-UDPPortMax instead, which costs more CPU per
	// packet (docs/performance-sfu.md) and needs the whole range open.
	UDPPort uint16 `conf:"udp_port"`
	// UDPPortMin and UDPPortMax bound the per-connection UDP ports used
	// for media when UDPPort is 0.
	UDPPortMin uint16 `conf:"udp_port_range_min"`
	UDPPortMax uint16 `conf:"udp_port_range_max"`
	// DirectSRTP encrypts and sends forwarded RTP on the shared UDP
	// socket itself, with the keys pion's DTLS handshake agreed, instead
	// of through pion's per-packet write path (sfu/srtpout): about a
	// fifth less CPU per forwarded packet. It needs UDPPort; false keeps
	// pion's path for every packet.
	DirectSRTP bool `conf:"direct_srtp"`
	// DefaultVideoCodec is used when a connect message names none.
	DefaultVideoCodec Codec `conf:"default_video_codec_type"`
	// PLIInterval is the shortest time between two PLIs sent to one
	// publisher track, whoever asked for them.
	PLIInterval time.Duration `conf:"pli_interval"`
	// SinkQueue is the number of packets buffered per subscription before
	// the SFU drops (and counts) packets for a slow sink.
	SinkQueue int `conf:"sink_queue_packets"`
	// ICELoopback gathers loopback candidates too; only tests that keep
	// all traffic on 127.0.0.1 set it.
	ICELoopback bool
	// Logger receives the SFU's logs; nil discards them.
	Logger *slog.Logger
	// Observer learns about session lifecycle; nil ignores it.
	Observer Observer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// DefaultConfig returns the defaults: every local address, media on UDP
// port 50000 (50001-50999 per connection when udp_port is 0), VP9 (Sora's
// default), one PLI per second at most.
func DefaultConfig() Config {
	return Config{
		UDPPort:           50000,
		UDPPortMin:        50001,
		UDPPortMax:        50999,
		DirectSRTP:        true,
		DefaultVideoCodec: VP9,
		PLIInterval:       time.Second,
		SinkQueue:         1024,
	}
}

// Validate reports the first invalid setting.
func (c *Config) Validate() error {
	var errs []error
	if c.ICEAddress != "" {
		if ip := net.ParseIP(c.ICEAddress); ip == nil || ip.To4() == nil {
			errs = append(errs, fmt.Errorf("ipv4_address %q is not an IPv4 address", c.ICEAddress))
		}
	}
	if c.UDPPort == 0 && (c.UDPPortMin == 0 || c.UDPPortMax < c.UDPPortMin) {
		errs = append(errs, fmt.Errorf("udp port range %d-%d is empty", c.UDPPortMin, c.UDPPortMax))
	}
	if _, err := ParseCodec(string(c.DefaultVideoCodec)); err != nil {
		errs = append(errs, err)
	}
	if c.PLIInterval <= 0 {
		errs = append(errs, errors.New("pli_interval must be positive"))
	}
	if c.SinkQueue <= 0 {
		errs = append(errs, errors.New("sink_queue_packets must be positive"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sfu config: %w", err)
	}
	return nil
}
