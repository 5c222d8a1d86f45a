package e2e

import (
	"strings"
	"testing"
)

// TestMultistream is the acceptance scenario per codec: two sendrecv
// pages and one recvonly page decode each other, a fourth page reaches
// everyone by re-offer, and a leaving page's tracks end at the others
// while the rest keep flowing.
func TestMultistream(t *testing.T) {
	for _, codec := range []string{"VP8", "VP9", "AV1", "H264"} {
		t.Run(codec, func(t *testing.T) {
			ch := "multistream-" + strings.ToLower(codec)
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
		})
	}
}
