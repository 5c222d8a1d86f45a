package loadgen

import (
	"fmt"
	"strings"

	"github.com/pion/webrtc/v4"
)

// TURN transports a client may relay through (ClientConfig.TURN).
const (
	TURNOff = ""    // ignore the offer's ICE servers: direct media
	TURNUDP = "udp" // relay through the offer's TURN server over UDP only
	TURNTCP = "tcp" // relay through it over TCP only
)

// relayThrough configures the PeerConnection, before it gathers, to relay
// only, through the offer's TURN URLs of the client's TURN transport, as
// a Sora SDK given that configuration would.
func (c *Client) relayThrough(cfg *offerConfig) error {
	if c.cfg.TURN == TURNOff {
		return nil
	}
	if cfg == nil {
		return fmt.Errorf("loadgen: relay over %s: the offer has no config", c.cfg.TURN)
	}
	var servers []webrtc.ICEServer
	for _, s := range cfg.ICEServers {
		var urls []string
		for _, u := range s.URLs {
			if strings.HasPrefix(u, "turn:") && strings.HasSuffix(u, "?transport="+c.cfg.TURN) {
				urls = append(urls, u)
			}
		}
		if len(urls) > 0 {
			servers = append(servers, webrtc.ICEServer{URLs: urls, Username: s.Username, Credential: s.Credential})
		}
	}
	if len(servers) == 0 {
		return fmt.Errorf("loadgen: the offer names no TURN URL over %s", c.cfg.TURN)
	}
	err := c.pc.SetConfiguration(webrtc.Configuration{ICEServers: servers, ICETransportPolicy: webrtc.ICETransportPolicyRelay})
	if err != nil {
		return fmt.Errorf("loadgen: relay configuration: %w", err)
	}
	return nil
}
