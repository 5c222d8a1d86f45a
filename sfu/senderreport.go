package sfu

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
)

// srFallbackAfter is how long a publisher may go without any sender report
// before the SFU reports its tracks to viewers from its own clock.
const srFallbackAfter = 5 * time.Second

// senderReports gives a published track's viewers RTCP sender reports.
//
// A viewer needs sender reports to play a publisher's audio and video in
// sync: each maps the stream's RTP timestamps to a wall clock. The SFU
// forwards RTP timestamps unchanged, so the publisher's own reports are
// exactly right for its viewers once their SSRC and counts are the
// viewer's: every publisher report is passed on to every viewer as it
// arrives. Only a publisher that sends none gets reports built from the
// SFU's clock and the arrival of its packets, and never both kinds, since
// their clocks differ.
type senderReports struct {
	packets atomic.Uint32 // packets forwarded since the track started
	octets  atomic.Uint32 // their payload bytes
	started atomic.Int64  // unix ns of the first forwarded packet
	lastOwn atomic.Int64  // unix ns of the last report built from our clock

	mu      sync.Mutex
	viewers map[*Connection]viewerCounts
}

// viewerCounts is where a viewer's counts start and its sender's SSRC.
type viewerCounts struct {
	ssrc            uint32
	packets, octets uint32
}

// forwarded counts a packet as sent to every viewer at now.
func (r *senderReports) forwarded(payloadBytes int, now time.Time) {
	if r.started.Load() == 0 {
		r.started.Store(now.UnixNano())
	}
	r.packets.Add(1)
	r.octets.Add(uint32(payloadBytes))
}

// addViewer starts reporting to viewer's sender ssrc.
func (r *senderReports) addViewer(viewer *Connection, ssrc uint32) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.viewers == nil {
		r.viewers = make(map[*Connection]viewerCounts)
	}
	r.viewers[viewer] = viewerCounts{ssrc: ssrc, packets: r.packets.Load(), octets: r.octets.Load()}
}

// removeViewer stops reporting to viewer.
func (r *senderReports) removeViewer(viewer *Connection) {
	r.mu.Lock()
	delete(r.viewers, viewer)
	r.mu.Unlock()
}

// send gives every viewer a report with the wall clock time ntp and the
// RTP timestamp rtpTime, its own SSRC and its own counts.
func (r *senderReports) send(ntp uint64, rtpTime uint32) {
	packets, octets := r.packets.Load(), r.octets.Load()
	type out struct {
		pc *webrtc.PeerConnection
		sr *rtcp.SenderReport
	}
	r.mu.Lock()
	reports := make([]out, 0, len(r.viewers))
	for v, c := range r.viewers {
		reports = append(reports, out{v.pc, &rtcp.SenderReport{SSRC: c.ssrc, NTPTime: ntp, RTPTime: rtpTime,
			PacketCount: packets - c.packets, OctetCount: octets - c.octets}})
	}
	r.mu.Unlock()
	for _, o := range reports {
		// A failed write is a viewer going away; its connection notices.
		_ = o.pc.WriteRTCP([]rtcp.Packet{o.sr})
	}
}

// ownReportDue reports whether a report built from the SFU's clock is due
// at now: the publisher has sent none in the srFallbackAfter since the
// track started, and the last own report is that old (or there was none).
func (r *senderReports) ownReportDue(publisherReports bool, now time.Time) bool {
	if publisherReports {
		return false
	}
	ns := now.UnixNano()
	return ns-r.started.Load() >= int64(srFallbackAfter) && ns-r.lastOwn.Load() >= int64(srFallbackAfter)
}

// sendOwn reports rtpTime as captured at now, from the SFU's clock.
func (r *senderReports) sendOwn(rtpTime uint32, now time.Time) {
	r.lastOwn.Store(now.UnixNano())
	r.send(ntpTime(now), rtpTime)
}

// ntpTime is t as a 64-bit NTP timestamp (seconds since 1900, 32.32).
func ntpTime(t time.Time) uint64 {
	const ntpEpochOffset = 2208988800
	secs := uint64(t.Unix() + ntpEpochOffset)
	frac := uint64(t.Nanosecond()) << 32 / uint64(time.Second)
	return secs<<32 | frac
}
