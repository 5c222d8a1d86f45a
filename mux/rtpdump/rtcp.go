package rtpdump

import "encoding/binary"

// SenderReport is what a muxer takes from an RTCP sender report: which
// stream, and the NTP time that matched an RTP time.
type SenderReport struct {
	SSRC    uint32
	NTPTime uint64
	RTPTime uint32
}

// RTCP header facts (RFC 3550 §6.4.1).
const (
	rtcpHeaderLen     = 4
	rtcpTypeSR        = 200
	senderReportLen   = 28 // header, SSRC, NTP time, RTP time, packet and octet counts
	receptionReportSz = 24
)

// SenderReports calls fn with each sender report in data, an RTCP
// packet's bytes (usually a compound packet), in order. It reads the
// fields in place and allocates nothing, unlike a full RTCP parse, which
// replaying captures with a report per stream every second paid for. When
// any packet's header is damaged (not version 2, or a length past the
// end), fn is not called at all; a sender report too short for the
// reception reports it announces is skipped.
func SenderReports(data []byte, fn func(SenderReport)) {
	if !rtcpHeadersSound(data) {
		return
	}
	for len(data) > 0 {
		n := rtcpPacketLen(data)
		p := data[:n]
		count := int(p[0] & 0x1f)
		if p[1] == rtcpTypeSR && n >= senderReportLen+count*receptionReportSz {
			fn(SenderReport{
				SSRC:    binary.BigEndian.Uint32(p[4:]),
				NTPTime: binary.BigEndian.Uint64(p[8:]),
				RTPTime: binary.BigEndian.Uint32(p[16:]),
			})
		}
		data = data[n:]
	}
}

// rtcpHeadersSound reports whether data is one or more RTCP packets whose
// headers are version 2 and whose lengths add up to data's.
func rtcpHeadersSound(data []byte) bool {
	if len(data) == 0 {
		return false
	}
	for len(data) > 0 {
		if len(data) < rtcpHeaderLen || data[0]>>6 != 2 {
			return false
		}
		n := rtcpPacketLen(data)
		if n > len(data) {
			return false
		}
		data = data[n:]
	}
	return true
}

// rtcpPacketLen is the length in bytes of the RTCP packet data starts with.
func rtcpPacketLen(data []byte) int {
	return (int(binary.BigEndian.Uint16(data[2:4])) + 1) * 4
}
