package sfu

import (
	"fmt"
	"sync/atomic"

	"github.com/pion/webrtc/v4"
)

// SystemLabels returns the labels of the DataChannels that carry Sora's
// DataChannel signaling (and its JSON-RPC channel, "rpc"), in the order
// they are created.
func SystemLabels() []string { return []string{"signaling", "notify", "push", "stats", "rpc"} }

// SystemPeer is implemented by a Peer whose connection uses DataChannel
// signaling. Methods are called from the DataChannels' goroutines and must
// not block.
type SystemPeer interface {
	Peer
	// SystemChannelsOpen is called once every system channel is open.
	SystemChannelsOpen()
	// SystemMessage delivers a message the client sent on a system
	// channel.
	SystemMessage(label string, data []byte)
}

// addSystemChannels creates the DataChannel signaling channels.
func (c *Connection) addSystemChannels() error {
	sp, ok := c.peer.(SystemPeer)
	if !ok {
		return fmt.Errorf("data channel signaling needs a SystemPeer, got %T", c.peer)
	}
	labels := SystemLabels()
	c.system = make(map[string]*webrtc.DataChannel, len(labels))
	var open atomic.Int32
	for _, label := range labels {
		dc, err := c.pc.CreateDataChannel(label, nil)
		if err != nil {
			return fmt.Errorf("create data channel %q: %w", label, err)
		}
		c.system[label] = dc
		dc.OnOpen(func() {
			if int(open.Add(1)) == len(labels) {
				sp.SystemChannelsOpen()
			}
		})
		dc.OnMessage(func(m webrtc.DataChannelMessage) { sp.SystemMessage(label, m.Data) })
	}
	return nil
}

// SendSystem sends a message on a system channel as text.
func (c *Connection) SendSystem(label string, data []byte) error {
	dc := c.system[label]
	if dc == nil {
		return fmt.Errorf("send on %q: %w", label, ErrNotFound)
	}
	if err := dc.SendText(string(data)); err != nil {
		return fmt.Errorf("send on %q: %w", label, err)
	}
	return nil
}
