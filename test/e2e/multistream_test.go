package e2e

import (
	"strings"
	"testing"
)

// TestMultistream is the acceptance scenario per codec: two sendrecv
// pages and one recvonly page decode each other, a fourth page reaches
// everyone by re-offer, a leaving page's tracks end at the others while
// the rest keep flowing, and a fifth page reuses the freed m-lines.
func TestMultistream(t *testing.T) {
	for _, codec := range []string{"VP8", "VP9", "AV1", "H264"} {
		t.Run(codec, func(t *testing.T) {
			ch := "multistream-" + strings.ToLower(codec)
			before := shared.sfu.Stats()
			a := join(t, "a", ch, "sendrecv", codec)
			b := join(t, "b", ch, "sendrecv", codec)
			c := join(t, "c", ch, "recvonly", codec)
			expectFlow(t, a, b, codec)
			expectFlow(t, b, a, codec)
			expectFlow(t, c, a, codec)
			expectFlow(t, c, b, codec)

			d := join(t, "d", ch, "sendrecv", codec)
			for _, rx := range []*member{a, b, c} {
				expectFlow(t, rx, d, codec)
			}
			expectFlow(t, d, a, codec)
			expectFlow(t, d, b, codec)

			b.disconnect()
			for _, rx := range []*member{a, c, d} {
				expectRemoved(t, rx, b)
			}
			expectFlow(t, c, a, codec)
			expectFlow(t, c, d, codec)
			expectFlow(t, a, d, codec)

			// A page joining now takes the m-lines b's tracks left
			// rejected; the browsers recycle them with new tracks.
			e := join(t, "e", ch, "sendrecv", codec)
			for _, rx := range []*member{a, c, d} {
				expectFlow(t, rx, e, codec)
			}
			expectFlow(t, e, a, codec)
			expectFlow(t, e, d, codec)
			expectFlow(t, c, a, codec)

			// Chromium answers as the DTLS client, so every page's media
			// takes the SFU's direct SRTP path.
			after := shared.sfu.Stats()
			if direct, pion := after.DirectSRTPConnections-before.DirectSRTPConnections,
				after.PionSRTPConnections-before.PionSRTPConnections; direct < 5 || pion != 0 {
				t.Fatalf("%d connections on the direct SRTP path and %d on pion's, want 5 and 0", direct, pion)
			}
			// The four publishing pages' media is received on the direct
			// path too, and most of it there.
			if direct, pion := after.DirectSRTPReceiveConnections-before.DirectSRTPReceiveConnections,
				after.PionSRTPReceiveConnections-before.PionSRTPReceiveConnections; direct < 4 || pion != 0 {
				t.Fatalf("%d publishing connections received on the direct path and %d on pion's, want 4 and 0", direct, pion)
			}
			if rx, direct := after.ReceivedRTPPackets-before.ReceivedRTPPackets,
				after.DirectRTPPackets-before.DirectRTPPackets; direct < rx*3/4 {
				t.Fatalf("%d of %d received packets took the direct path", direct, rx)
			}
			// Every datagram is read in batches outside Go's poller
			// (udp_receive_coalesce, on in this environment).
			if rx, read := after.ReceivedRTPPackets-before.ReceivedRTPPackets,
				after.UDPBatchDatagrams-before.UDPBatchDatagrams; read < rx || after.UDPBatchReads == before.UDPBatchReads {
				t.Fatalf("%d datagrams read in %d batches for %d received packets", read,
					after.UDPBatchReads-before.UDPBatchReads, rx)
			}
		})
	}
}
