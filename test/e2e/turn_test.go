package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// transportInfo is what the page's kiroku.transport() reports.
type transportInfo struct {
	ICETransportPolicy string `json:"iceTransportPolicy"`
	ICEServers         []struct {
		URLs          []string `json:"urls"`
		HasCredential bool     `json:"hasCredential"`
	} `json:"iceServers"`
	LocalType     string `json:"localType"`
	LocalProtocol string `json:"localProtocol"`
	RemoteType    string `json:"remoteType"`
}

// TestTURNRelay runs cmd/sfu with its built-in TURN server: sora-js-sdk
// pages get relay-only configurations with their own credentials, and
// audio and video flow both ways through the relay, sent by the direct
// SRTP path.
func TestTURNRelay(t *testing.T) {
	hooks := &hookLog{}
	port := freeUDPPort(t)
	srv := startRecServer(t, hooks, fmt.Sprintf("turn = true\nturn_port = %d\nturn_tcp = true\n", port))
	a := srv.joinAt(t, "a", "turn", "VP8", map[string]any{"name": "a"})
	b := srv.joinAt(t, "b", "turn", "VP8", map[string]any{"name": "b"})
	expectFlow(t, a, b, "VP8")
	expectFlow(t, b, a, "VP8")
	wantURLs := []string{fmt.Sprintf("turn:%s:%d?transport=udp", mediaAddress, port),
		fmt.Sprintf("turn:%s:%d?transport=tcp", mediaAddress, port)}
	for _, m := range []*member{a, b} {
		var tr transportInfo
		if err := m.p.call("transport", nil, &tr); err != nil {
			t.Fatalf("%s transport: %v", m.name, err)
		}
		if tr.ICETransportPolicy != "relay" || len(tr.ICEServers) != 1 || !tr.ICEServers[0].HasCredential ||
			!slices.Equal(tr.ICEServers[0].URLs, wantURLs) {
			t.Fatalf("%s PeerConnection configuration %+v, want relay only through %v with credentials", m.name, tr, wantURLs)
		}
		// Chromium allocates on both of the server's transports; which
		// relay candidate wins depends on which check succeeds first.
		if tr.LocalType != "relay" || tr.RemoteType != "host" ||
			!(strings.HasPrefix(tr.LocalProtocol, "udp") || strings.HasPrefix(tr.LocalProtocol, "tcp")) {
			t.Fatalf("%s selected pair %+v, want our relay (UDP or TCP) to the SFU's host candidate", m.name, tr)
		}
	}
	var stats map[string]any
	srv.api(t, "Sora_20171010.GetStatsReport", map[string]any{}, &stats)
	if n, _ := stats["total_turn_udp_connections"].(float64); n < 2 {
		t.Fatalf("GetStatsReport total_turn_udp_connections = %v, want at least one per page", stats["total_turn_udp_connections"])
	}
	// Relay and SFU hand their datagrams to each other in memory: both
	// pages' media, several seconds of it, and nothing dropped.
	if n, _ := stats["total_turn_memory_datagrams"].(float64); n < 500 {
		t.Fatalf("GetStatsReport total_turn_memory_datagrams = %v, want the relayed media handed over in memory", stats["total_turn_memory_datagrams"])
	}
	if n, _ := stats["total_turn_memory_dropped_datagrams"].(float64); n != 0 {
		t.Fatalf("GetStatsReport total_turn_memory_dropped_datagrams = %v, want 0", n)
	}
	// The SFU sends to the relayed address from its own socket, directly
	// encrypted, as pion would.
	if direct, pion := stats["total_direct_srtp_connections"], stats["total_pion_srtp_connections"]; direct != 2.0 || pion != 0.0 {
		t.Fatalf("GetStatsReport: %v connections on the direct SRTP path and %v on pion's, want 2 and 0", direct, pion)
	}
	// Relayed media arrives from the relay's address, in memory, and is
	// received on the direct path all the same.
	if direct, pion := stats["total_direct_srtp_receive_connections"], stats["total_pion_srtp_receive_connections"]; direct != 2.0 || pion != 0.0 {
		t.Fatalf("GetStatsReport: %v connections receiving on the direct path and %v on pion's, want 2 and 0", direct, pion)
	}
}
