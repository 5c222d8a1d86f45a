package sfu

import (
	"fmt"
	"strings"

	"github.com/pion/webrtc/v4"
)

// DataChannel is a messaging channel (label "#…") a connection asked for.
// The server creates it; messages a client sends on it are relayed to the
// channel's other connections that have the same label.
type DataChannel struct {
	Label string
	// Direction is the client's view: "sendrecv", "sendonly" (the client
	// only sends) or "recvonly" (it only receives).
	Direction         string
	Ordered           *bool
	MaxPacketLifeTime *uint16
	MaxRetransmits    *uint16
	Protocol          string
	// SenderHeader prefixes every message this connection receives with
	// the sender's 26-byte connection_id.
	SenderHeader bool
}

// ValidDataChannel checks a messaging channel description.
func ValidDataChannel(d DataChannel) error {
	switch {
	case !strings.HasPrefix(d.Label, "#") || len(d.Label) > 255:
		return fmt.Errorf("data channel label %q must start with # and be at most 255 bytes", d.Label)
	case d.Direction != "sendrecv" && d.Direction != "sendonly" && d.Direction != "recvonly":
		return fmt.Errorf("data channel %q: invalid direction %q", d.Label, d.Direction)
	case d.MaxPacketLifeTime != nil && d.MaxRetransmits != nil:
		return fmt.Errorf("data channel %q: max_packet_life_time and max_retransmits exclude each other", d.Label)
	}
	return nil
}

// messagingChannel is a created messaging DataChannel.
type messagingChannel struct {
	spec DataChannel
	dc   *webrtc.DataChannel
}

// addDataChannels creates the requested messaging channels so that they
// are part of the first offer.
func (c *Connection) addDataChannels(specs []DataChannel) error {
	c.channels = make(map[string]*messagingChannel, len(specs))
	for _, spec := range specs {
		if err := ValidDataChannel(spec); err != nil {
			return err
		}
		if c.channels[spec.Label] != nil {
			return fmt.Errorf("data channel %q requested twice", spec.Label)
		}
		init := &webrtc.DataChannelInit{Ordered: spec.Ordered, MaxPacketLifeTime: spec.MaxPacketLifeTime,
			MaxRetransmits: spec.MaxRetransmits}
		if spec.Protocol != "" {
			init.Protocol = &spec.Protocol
		}
		dc, err := c.pc.CreateDataChannel(spec.Label, init)
		if err != nil {
			return fmt.Errorf("create data channel %q: %w", spec.Label, err)
		}
		mc := &messagingChannel{spec: spec, dc: dc}
		c.channels[spec.Label] = mc
		c.channelSpecs = append(c.channelSpecs, spec)
		if spec.Direction != "recvonly" {
			dc.OnMessage(func(m webrtc.DataChannelMessage) { c.sfu.relay(c, spec.Label, m.Data) })
		}
	}
	return nil
}

// relay sends a message from c on label to the channel's other members
// that receive that label (not those sharing c's bundle_id).
func (s *SFU) relay(from *Connection, label string, data []byte) {
	var withHeader []byte
	for _, to := range s.channelMembers(from.info.ChannelID) {
		if to == from || to.info.BundleID == from.info.BundleID {
			continue
		}
		mc := to.channels[label]
		if mc == nil || mc.spec.Direction == "sendonly" || mc.dc.ReadyState() != webrtc.DataChannelStateOpen {
			continue
		}
		msg := data
		if mc.spec.SenderHeader {
			if withHeader == nil {
				withHeader = append([]byte(from.info.ConnectionID), data...)
			}
			msg = withHeader
		}
		if err := mc.dc.Send(msg); err != nil {
			to.log.Debug("relay message", "label", label, "err", err)
		}
	}
}

// DataChannels returns the messaging channels the connection has, in the
// order they were requested.
func (c *Connection) DataChannels() []DataChannel {
	return append([]DataChannel(nil), c.channelSpecs...)
}
