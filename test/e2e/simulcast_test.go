package e2e

import "testing"

// TestSimulcastOneLayer: apps written for Sora's simulcast connect with
// simulcast: true. kiroku accepts them with an offer saying simulcast is
// off (as Sora does when the auth webhook turns it off), so the SDK sends
// one encoding, which is forwarded as usual.
func TestSimulcastOneLayer(t *testing.T) {
	ch := "simulcast"
	args := func(name, role string) connectArgs {
		return connectArgs{SignalingURL: shared.ws, ChannelID: ch, Role: role, Codec: "VP8",
			Metadata: map[string]string{"name": name}, Audio: true, Video: true, Simulcast: true}
	}
	a := joinWith(t, "a", args("a", "sendrecv"))
	b := joinWith(t, "b", args("b", "recvonly"))
	expectFlow(t, b, a, "VP8")
	var encodings int
	if err := a.p.eval("kiroku.videoEncodings()", &encodings); err != nil {
		t.Fatal(err)
	}
	if encodings != 1 {
		t.Fatalf("the simulcast page's video sender has %d encodings, want 1", encodings)
	}
}
