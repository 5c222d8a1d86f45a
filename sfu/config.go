package sfu

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/kiroku-sfu/kiroku/memudp"
)

// Config holds the SFU's settings. Start from [DefaultConfig].
type Config struct {
	// ICEAddress is the IPv4 address announced in ICE candidates
	// (sora.conf ipv4_address). While it is on an interface it is the only
	// IPv4 address media uses; otherwise (1:1 NAT, or not assigned yet) it
	// is announced in place of every local IPv4 address. It never
	// restricts IPv6.
	ICEAddress string `conf:"ipv4_address"`
	// IPv6 gathers IPv6 host candidates too (sora.conf ipv6, true by
	// default as in Sora). Link-local addresses are never announced, and
	// an address still tentative (duplicate address detection) is picked
	// up once it can be bound.
	IPv6 bool `conf:"ipv6"`
	// IPv6Address is the IPv6 address announced in ICE candidates
	// (sora.conf ipv6_address), as ICEAddress is for IPv4. It needs IPv6.
	IPv6Address string `conf:"ipv6_address"`
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
	// DirectSRTPReceive receives publishers' RTP on the shared UDP
	// socket's reader itself: it decrypts with the keys pion's DTLS
	// handshake agreed and hands each packet, through pion's receive
	// interceptors (NACK, receiver reports, TWCC feedback), straight to
	// the track's forwarding and recording, in place of about five
	// goroutine hand-offs per packet on pion's path (sfu/srtpout). It
	// needs UDPPort and DirectSRTP; a connection where this side is the
	// DTLS client keeps pion's path.
	DirectSRTPReceive bool `conf:"direct_srtp_receive"`
	// UDPReceiveCoalesce, if positive, reads the shared UDP sockets
	// (UDPPort) outside Go's network poller, which wakes a thread for
	// every arriving datagram, and, on a socket with heavy traffic (more
	// than two datagrams per interval), lets datagrams gather until the
	// next multiple of this interval on the clock before it takes them
	// all at once: a few thread wake-ups per interval instead of about
	// one per burst of packets, for at most this much more delay (Linux;
	// elsewhere, and with 0, the sockets are read through Go's poller).
	// The interval shrinks while arrivals would fill the socket's buffer,
	// and congestion feedback reports the kernel's receive times, not
	// the reads'.
	//
	// It is for nodes that mostly record: at 20 ms (the most) kiroku
	// wakes about half as often per packet at 8 publishers and a third as
	// often at 16, and costs a fifth to a third less CPU per recorded
	// publisher (bench/ingest). It is off by default because it delays
	// forwarded packets by up to the interval, above the SFU's 2 ms p99
	// goal.
	UDPReceiveCoalesce time.Duration `conf:"udp_receive_coalesce"`
	// DefaultVideoCodec is used when a connect message names none.
	DefaultVideoCodec Codec `conf:"default_video_codec_type"`
	// PLIInterval is the shortest time between two PLIs sent to one
	// publisher track, whoever asked for them.
	PLIInterval time.Duration `conf:"pli_interval"`
	// SinkQueue is the number of packets buffered per subscription before
	// the SFU drops (and counts) packets for a slow sink. A QueueingSink
	// (a recorder) queues on its own; the node sizes recorders' queues
	// with it.
	SinkQueue int `conf:"sink_queue_packets"`
	// ICELoopback gathers loopback candidates too; only tests that keep
	// all traffic on 127.0.0.1 set it.
	ICELoopback bool
	// LocalUDP, if not nil, carries datagrams between the shared media
	// sockets (udp_port) and the built-in TURN server's relays in memory:
	// the relay's only peer is this SFU, so relayed packets need not
	// cross the kernel twice more.
	LocalUDP *memudp.Switch
	// Logger receives the SFU's logs; nil discards them.
	Logger *slog.Logger
	// Observer learns about session lifecycle; nil ignores it.
	Observer Observer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// MaxUDPReceiveCoalesce bounds udp_receive_coalesce: more would hold an
// audio packet longer than the 20 ms it carries.
const MaxUDPReceiveCoalesce = 20 * time.Millisecond

// DefaultConfig returns the defaults: every local address of both
// families (IPv6 on, as in Sora), media on UDP port 50000 (50001-50999 per connection when udp_port is 0), VP9 (Sora's
// default), one PLI per second at most.
func DefaultConfig() Config {
	return Config{
		IPv6:              true,
		UDPPort:           50000,
		UDPPortMin:        50001,
		UDPPortMax:        50999,
		DirectSRTP:        true,
		DirectSRTPReceive: true,
		DefaultVideoCodec: VP9,
		PLIInterval:       time.Second,
		SinkQueue:         512,
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
	if c.IPv6Address != "" {
		if ip := net.ParseIP(c.IPv6Address); ip == nil || ip.To4() != nil || ip.IsUnspecified() ||
			ip.IsMulticast() || ip.IsLinkLocalUnicast() {
			errs = append(errs, fmt.Errorf("ipv6_address %q is not an IPv6 unicast address that can be announced (not link-local)", c.IPv6Address))
		} else if !c.IPv6 {
			errs = append(errs, errors.New("ipv6_address is set but ipv6 is false"))
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
	if c.UDPReceiveCoalesce < 0 || c.UDPReceiveCoalesce > MaxUDPReceiveCoalesce {
		errs = append(errs, fmt.Errorf("udp_receive_coalesce %v: want 0 to %v", c.UDPReceiveCoalesce, MaxUDPReceiveCoalesce))
	}
	if c.SinkQueue <= 0 {
		errs = append(errs, errors.New("sink_queue_packets must be positive"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sfu config: %w", err)
	}
	return nil
}
