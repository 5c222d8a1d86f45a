package e2e

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/kiroku-sfu/kiroku/sfu/hostmux"
)

// TestIPv6OnlyClient: a browser whose namespace has only an IPv6 address
// (fd00::2, on a veth pair with the SFU's fd00::1) connects to
// ws://[fd00::1]:PORT/signaling, publishes and receives over IPv6 host
// candidates, and is recorded. The SFU keeps ipv4_address set: IPv6 is
// announced beside it.
func TestIPv6OnlyClient(t *testing.T) {
	ns := newClientNS(t)
	ns.link(t, "k6s", "k6c", []string{"fd00::1/64"}, []string{"fd00::2/64"})

	hooks := &hookLog{}
	udpPort := freeUDPPort(t)
	srv, port := startOpenServer(t, hooks, udpPort, fmt.Sprintf("ipv4_address = %s\nipv6 = true\n", mediaAddress))
	b := ns.startBrowser(t)
	base, ws := ns.servePages(t), fmt.Sprintf("ws://[fd00::1]:%s/signaling", port)
	const channel = "ipv6-only"
	a := joinIn(t, b, base, ws, "a", channel, "sendrecv")
	c := joinIn(t, b, base, ws, "c", channel, "sendrecv")
	expectFlow(t, a, c, "VP8")
	expectFlow(t, c, a, "VP8")

	want := []netip.AddrPort{netip.MustParseAddrPort(fmt.Sprintf("%s:%d", mediaAddress, udpPort)),
		netip.MustParseAddrPort(fmt.Sprintf("[fd00::1]:%d", udpPort))}
	for _, m := range []*member{a, c} {
		info := m.ice()
		if got := info.offerHosts(); !slices.Equal(got, want) {
			t.Errorf("%s: the SFU's host candidates %v, want %v (ipv4_address and every usable IPv6 address)", m.name, got, want)
		}
		sel := info.Selected
		if sel == nil || sel.Remote.Address != "fd00::1" || sel.Remote.Port != udpPort || sel.Local.Address != "fd00::2" ||
			sel.Local.Type != "host" || sel.Remote.Type != "host" {
			t.Errorf("%s: selected pair %+v, want the page's fd00::2 host candidate to the SFU's [fd00::1]:%d", m.name, sel, udpPort)
		}
	}

	// Media to the IPv6 pair leaves from the SFU's IPv6 socket, encrypted
	// by the direct SRTP path.
	var stats map[string]any
	srv.api(t, "Sora_20171010.GetStatsReport", map[string]any{}, &stats)
	if direct, pion := stats["total_direct_srtp_connections"], stats["total_pion_srtp_connections"]; direct != 2.0 || pion != 0.0 {
		t.Errorf("GetStatsReport: %v connections on the direct SRTP path and %v on pion's, want 2 and 0", direct, pion)
	}

	var rec recordingInfo
	srv.api(t, "Sora_20231220.StartRecording", map[string]any{"channel_id": channel, "format": "webm"}, &rec)
	if rec.RecordingID == "" {
		t.Fatalf("StartRecording = %+v", rec)
	}
	const length = 8 * time.Second
	time.Sleep(length)
	srv.api(t, "Sora_20231220.StopRecording", map[string]any{"channel_id": channel}, nil)
	hooks.waitHook(t, "recording.report", 30*time.Second, func(w webhook) bool { return w.data("recording_id") == rec.RecordingID })
	dir := filepath.Join(srv.archive, rec.RecordingID)
	for _, m := range []*member{a, c} {
		checkMedia(t, filepath.Join(dir, "archive-"+m.id+".webm"), length, 2*time.Second)
	}
	verifyRecording(t, dir)
}

// TestIPv6TentativeAtStart: the SFU starts while its IPv6 address (and
// its interface's link-local one) is still tentative, as at boot, and
// uses the address once duplicate address detection is done: a browser
// that can only reach it connects over it.
func TestIPv6TentativeAtStart(t *testing.T) {
	ns := newClientNS(t)
	ns.veth(t, "k7s", "k7c")
	// Without nodad, and with the peer end down (no carrier), duplicate
	// address detection cannot run: the address stays tentative.
	runHere(t, "ip", "addr", "add", "fd00:7::1/64", "dev", "k7s")
	runHere(t, "ip", "link", "set", "k7s", "up")
	if !tentative(t, "k7s", "fd00:7::1") {
		t.Fatalf("fd00:7::1 is not tentative:\n%s", addrsOf(t, "k7s"))
	}

	hooks := &hookLog{}
	udpPort := freeUDPPort(t)
	_, port := startOpenServer(t, hooks, udpPort, fmt.Sprintf("ipv4_address = %s\nipv6 = true\nipv6_address = fd00:7::1\n", mediaAddress))
	if !tentative(t, "k7s", "fd00:7::1") {
		t.Fatal("fd00:7::1 settled before the SFU started: the test proves nothing")
	}

	ns.run(t, "ip", "addr", "add", "fd00:7::2/64", "dev", "k7c", "nodad")
	ns.run(t, "ip", "link", "set", "k7c", "up")
	waitFor(t, "fd00:7::1 to settle", 15*time.Second, func() string {
		if tentative(t, "k7s", "fd00:7::1") {
			return "still tentative"
		}
		return ""
	})
	settled := time.Now()
	b := ns.startBrowser(t)
	base, ws := ns.servePages(t), fmt.Sprintf("ws://[fd00:7::1]:%s/signaling", port)
	// The SFU looks for new addresses every hostmux.DefaultRescan.
	time.Sleep(time.Until(settled.Add(hostmux.DefaultRescan + time.Second)))
	a := joinIn(t, b, base, ws, "a", "ipv6-tentative", "sendrecv")
	v := joinIn(t, b, base, ws, "v", "ipv6-tentative", "recvonly")
	expectFlow(t, v, a, "VP8")

	want := []netip.AddrPort{netip.MustParseAddrPort(fmt.Sprintf("%s:%d", mediaAddress, udpPort)),
		netip.MustParseAddrPort(fmt.Sprintf("[fd00:7::1]:%d", udpPort))}
	for _, m := range []*member{a, v} {
		info := m.ice()
		if got := info.offerHosts(); !slices.Equal(got, want) {
			t.Errorf("%s: the SFU's host candidates %v, want %v", m.name, got, want)
		}
		if sel := info.Selected; sel == nil || sel.Remote.Address != "fd00:7::1" {
			t.Errorf("%s: selected pair %+v, want one to the SFU's fd00:7::1", m.name, sel)
		}
	}
}

// TestDualStackCandidates: in a namespace with both families, the SFU
// offers a host candidate of each (ipv4_address and ipv6_address, on the
// one UDP port), the browser gathers both, and media flows.
func TestDualStackCandidates(t *testing.T) {
	ns := newClientNS(t)
	ns.link(t, "k8s", "k8c", []string{"198.19.0.1/24", "fd00:8::1/64"}, []string{"198.19.0.2/24", "fd00:8::2/64"})

	hooks := &hookLog{}
	udpPort := freeUDPPort(t)
	_, port := startOpenServer(t, hooks, udpPort, "ipv4_address = 198.19.0.1\nipv6_address = fd00:8::1\n")
	b := ns.startBrowser(t)
	base, ws := ns.servePages(t), fmt.Sprintf("ws://198.19.0.1:%s/signaling", port)
	want := []netip.AddrPort{netip.MustParseAddrPort(fmt.Sprintf("198.19.0.1:%d", udpPort)),
		netip.MustParseAddrPort(fmt.Sprintf("[fd00:8::1]:%d", udpPort))}
	var members []*member
	for _, j := range []struct{ name, role string }{{"a", "sendrecv"}, {"v", "recvonly"}} {
		m := joinIn(t, b, base, ws, j.name, "dual-stack", j.role)
		members = append(members, m)
		// Read right after connecting: Chromium drops the candidates of
		// pairs it prunes once one pair is nominated.
		info := m.ice()
		if got := info.offerHosts(); !slices.Equal(got, want) {
			t.Errorf("%s: the SFU's host candidates %v, want exactly %v", m.name, got, want)
		}
		// The publisher was granted the camera, so Chromium shows it its
		// raw host addresses (a viewer's are mDNS names).
		if v4, v6 := families(info.Local); m.role == "sendrecv" && (!v4 || !v6) {
			t.Errorf("%s: local candidates %+v, want both families", m.name, info.Local)
		}
	}
	expectFlow(t, members[1], members[0], "VP8")
}
