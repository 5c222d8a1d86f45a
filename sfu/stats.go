package sfu

import (
	"sync/atomic"

	"github.com/kiroku-sfu/kiroku/memudp"
)

// Stats are the SFU's running totals since it started, e.g. for Sora's
// GetStatsReport API or metrics.
type Stats struct {
	ConnectionsCreated   uint64 // joins admitted
	ConnectionsDestroyed uint64 // connections closed
	ConnectionsRejected  uint64 // joins refused (mode, duplicate id)
	OngoingConnections   int
	SessionsCreated      uint64
	SessionsDestroyed    uint64
	OngoingSessions      int
	ReceivedRTPPackets   uint64 // from publishers
	ReceivedRTPBytes     uint64 // payload bytes from publishers
	ForwardedRTPPackets  uint64 // packets handed to viewers (one per viewer)
	ForwardedRTPBytes    uint64 // their payload bytes
	KeyframeRequests     uint64 // PLIs sent to publishers
	KeyframeDeferred     uint64 // requests inside the PLI interval: sent later or merged
	SinkDropped          uint64 // packets dropped for slow sinks
	// MalformedPackets counts RTP packets and RTCP compounds from clients
	// that the SFU could not read (malformed, or a payload type never
	// negotiated) and skipped.
	MalformedPackets uint64
	// DirectSRTPConnections and PionSRTPConnections count connections
	// whose RTP, once DTLS connected, took the direct SRTP path
	// (sfu/srtpout) or pion's write path. Neither counts with direct_srtp
	// off or a port per connection.
	DirectSRTPConnections uint64
	PionSRTPConnections   uint64
	// DirectSRTPReceiveConnections and PionSRTPReceiveConnections count
	// publishing connections whose RTP, once DTLS connected, is received
	// on the direct path (direct_srtp_receive) or pion's. Neither counts
	// with direct_srtp_receive off.
	DirectSRTPReceiveConnections uint64
	PionSRTPReceiveConnections   uint64
	// DirectRTPPackets counts RTP packets received on the direct path.
	DirectRTPPackets uint64
	// UDPBatchReads counts the system calls that read the shared UDP
	// sockets in batches, outside Go's poller (udp_receive_coalesce above
	// 0), and UDPBatchDatagrams the datagrams they returned;
	// UDPReceivePolls counts the coalescing intervals their readers
	// slept. Totals of the sockets bound now.
	UDPBatchReads, UDPBatchDatagrams, UDPReceivePolls uint64
	// RefusedStreams counts published video streams not forwarded to a
	// receiver that cannot decode their codec (its capability sdp lacks
	// it, or its answer refused it).
	RefusedStreams uint64
	// UnreadableDescriptors counts simulcast video packets whose payload
	// descriptor (VP8, VP9) could not be read, so that they were forwarded
	// without renumbering their picture ids.
	UnreadableDescriptors uint64
	// NACKRetransmissions counts packets sent again in answer to a
	// viewer's NACK.
	NACKRetransmissions uint64
	// SpotlightFocused and SpotlightUnfocused count publishers focused
	// and unfocused in spotlight channels (by voice or the API).
	SpotlightFocused, SpotlightUnfocused uint64
}

// counters are the atomically updated totals behind Stats.
type counters struct {
	connCreated, connDestroyed, connRejected atomic.Uint64
	sessCreated, sessDestroyed               atomic.Uint64
	rtpPackets, rtpBytes                     atomic.Uint64
	forwarded, forwardedBytes                atomic.Uint64
	plis, merged, sinkDropped                atomic.Uint64
	directSRTP, pionSRTP                     atomic.Uint64
	directReceive, pionReceive, directRTP    atomic.Uint64
	malformed, refused, badDescriptors       atomic.Uint64
	retransmitted                            atomic.Uint64
	spotFocused, spotUnfocused               atomic.Uint64
}

// srtpSettled counts the way one connection's RTP took.
func (c *counters) srtpSettled(direct bool) {
	if direct {
		c.directSRTP.Add(1)
	} else {
		c.pionSRTP.Add(1)
	}
}

// receiveSettled counts the way one connection's received RTP took.
func (c *counters) receiveSettled(direct bool) {
	if direct {
		c.directReceive.Add(1)
	} else {
		c.pionReceive.Add(1)
	}
}

// Stats returns the running totals.
func (s *SFU) Stats() Stats {
	s.mu.Lock()
	ongoingConns, ongoingSessions := len(s.conns), len(s.channels)
	s.mu.Unlock()
	c := &s.counters
	st := Stats{
		ConnectionsCreated: c.connCreated.Load(), ConnectionsDestroyed: c.connDestroyed.Load(),
		ConnectionsRejected: c.connRejected.Load(), OngoingConnections: ongoingConns,
		SessionsCreated: c.sessCreated.Load(), SessionsDestroyed: c.sessDestroyed.Load(),
		OngoingSessions:    ongoingSessions,
		ReceivedRTPPackets: c.rtpPackets.Load(), ReceivedRTPBytes: c.rtpBytes.Load(),
		ForwardedRTPPackets: c.forwarded.Load(), ForwardedRTPBytes: c.forwardedBytes.Load(),
		KeyframeRequests: c.plis.Load(),
		KeyframeDeferred: c.merged.Load(), SinkDropped: c.sinkDropped.Load(), MalformedPackets: c.malformed.Load(),
		DirectSRTPConnections: c.directSRTP.Load(), PionSRTPConnections: c.pionSRTP.Load(),
		DirectSRTPReceiveConnections: c.directReceive.Load(), PionSRTPReceiveConnections: c.pionReceive.Load(),
		DirectRTPPackets: c.directRTP.Load(),
		RefusedStreams:   c.refused.Load(), UnreadableDescriptors: c.badDescriptors.Load(),
		NACKRetransmissions: c.retransmitted.Load(),
		SpotlightFocused:    c.spotFocused.Load(), SpotlightUnfocused: c.spotUnfocused.Load(),
	}
	if m, ok := s.udpMux.(interface{ ReadStats() memudp.ReadStats }); ok {
		rs := m.ReadStats()
		st.UDPBatchReads, st.UDPBatchDatagrams, st.UDPReceivePolls = rs.Reads, rs.Datagrams, rs.Polls
	}
	return st
}

// ConnectionsByRole counts the connections open now by role; every role
// is present.
func (s *SFU) ConnectionsByRole() map[Role]int {
	out := map[Role]int{SendRecv: 0, SendOnly: 0, RecvOnly: 0}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		out[c.info.Role]++ // info is fixed at creation
	}
	return out
}
