package signaling

import (
	"github.com/kiroku-sfu/kiroku/sfu"
)

// dataChannelOption is one entry of connect's "data_channels".
type dataChannelOption struct {
	Label             string         `json:"label"`
	Direction         string         `json:"direction"`
	Compress          bool           `json:"compress"`
	MaxPacketLifeTime *uint16        `json:"max_packet_life_time"`
	MaxRetransmits    *uint16        `json:"max_retransmits"`
	Protocol          string         `json:"protocol"`
	Ordered           *bool          `json:"ordered"`
	Header            []headerOption `json:"header"`
}

type headerOption struct {
	Type string `json:"type"`
}

// maxDataChannels bounds the messaging channels of one connection.
const maxDataChannels = 16

// parseDataChannels turns connect's data_channels into SFU requests.
func parseDataChannels(opts []dataChannelOption) ([]sfu.DataChannel, *rejection) {
	if len(opts) > maxDataChannels {
		return nil, reject(codeInvalidParam, "TOO-MANY-DATA-CHANNELS")
	}
	var out []sfu.DataChannel
	for _, o := range opts {
		d := sfu.DataChannel{Label: o.Label, Direction: o.Direction, Ordered: o.Ordered,
			MaxPacketLifeTime: o.MaxPacketLifeTime, MaxRetransmits: o.MaxRetransmits, Protocol: o.Protocol}
		if d.Direction == "" {
			d.Direction = "sendrecv"
		}
		for _, h := range o.Header {
			if h.Type != "sender_connection_id" {
				return nil, reject(codeInvalidParam, "INVALID-DATA-CHANNELS")
			}
			d.SenderHeader = true
		}
		if o.Compress || sfu.ValidDataChannel(d) != nil || len(d.Protocol) > maxIDBytes {
			return nil, reject(codeInvalidParam, "INVALID-DATA-CHANNELS")
		}
		for _, prev := range out {
			if prev.Label == d.Label {
				return nil, reject(codeInvalidParam, "INVALID-DATA-CHANNELS")
			}
		}
		out = append(out, d)
	}
	return out, nil
}

// offerDataChannels describes the connection's messaging channels in the
// offer's "data_channels".
func offerDataChannels(dcSignaling bool, dcs []sfu.DataChannel) []offerDataChannel {
	out := []offerDataChannel{}
	if dcSignaling {
		for _, label := range sfu.SystemLabels() {
			out = append(out, offerDataChannel{Label: label, Direction: "sendrecv"})
		}
	}
	for _, d := range dcs {
		o := offerDataChannel{Label: d.Label, Direction: d.Direction}
		if d.SenderHeader {
			o.Header = []headerOption{{Type: "sender_connection_id"}}
		}
		out = append(out, o)
	}
	return out
}

type offerDataChannel struct {
	Label     string         `json:"label"`
	Direction string         `json:"direction"`
	Compress  bool           `json:"compress"`
	Header    []headerOption `json:"header,omitempty"`
}
