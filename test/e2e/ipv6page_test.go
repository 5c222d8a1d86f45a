package e2e

import (
	"fmt"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// startOpenServer starts cmd/sfu as startRecServer does, but with
// signaling on every address (so a browser in a client namespace reaches
// it) and only the given address keys. It returns the server and its
// signaling port.
func startOpenServer(t *testing.T, hooks *hookLog, udpPort int, addresses string) (*recServer, string) {
	t.Helper()
	dir := t.TempDir()
	s := &recServer{t: t, hooks: hooks, receiver: httptest.NewServer(hooks),
		archive: filepath.Join(dir, "archive"), tmp: filepath.Join(dir, "archive_tmp")}
	t.Cleanup(s.receiver.Close)
	s.conf = writeConfig(t, fmt.Sprintf(`udp_port = %d
archive_dir = %s
archive_tmp_dir = %s
auth_webhook_url = %s/auth
session_webhook_url = %s/session
event_webhook_url = %s/event
log_level = info
shutdown_timeout = 10 s
%s`, udpPort, s.archive, s.tmp, s.receiver.URL, s.receiver.URL, s.receiver.URL, addresses))
	s.start()
	t.Cleanup(func() { s.stop(syscall.SIGTERM) })
	u, err := url.Parse(s.ws)
	if err != nil {
		t.Fatal(err)
	}
	return s, u.Port()
}

// capturePCs makes the page keep every RTCPeerConnection the SDK builds
// (window.__pcs), so the test can read their candidates.
const capturePCs = `(() => {
  if (!window.__pcs) {
    window.__pcs = [];
    const Base = window.RTCPeerConnection;
    window.RTCPeerConnection = class extends Base {
      constructor(...args) { super(...args); window.__pcs.push(this); }
    };
  }
  return true;
})()`

// iceReport is what a page's PeerConnection says about ICE: the offer's
// candidate lines, the candidates on both sides and the selected pair.
const iceReport = `(async () => {
  const pc = window.__pcs.at(-1);
  const report = await pc.getStats();
  const cand = (c) => c && { address: c.address ?? "", port: c.port ?? 0, type: c.candidateType ?? "" };
  const out = { offer: pc.remoteDescription?.sdp ?? "", local: [], remote: [], selected: null };
  report.forEach((r) => {
    if (r.type === "local-candidate") out.local.push(cand(r));
    if (r.type === "remote-candidate") out.remote.push(cand(r));
    if (r.type === "transport" && r.selectedCandidatePairId) {
      const pair = report.get(r.selectedCandidatePairId);
      out.selected = { local: cand(report.get(pair.localCandidateId)), remote: cand(report.get(pair.remoteCandidateId)) };
    }
  });
  return out;
})()`

type iceCandidate struct {
	Address string `json:"address"`
	Port    int    `json:"port"`
	Type    string `json:"type"`
}

type iceInfo struct {
	Offer    string         `json:"offer"`
	Local    []iceCandidate `json:"local"`
	Remote   []iceCandidate `json:"remote"`
	Selected *struct {
		Local  iceCandidate `json:"local"`
		Remote iceCandidate `json:"remote"`
	} `json:"selected"`
}

// offerHosts returns the SFU's host candidates in its offer, as
// address:port.
func (i iceInfo) offerHosts() []netip.AddrPort {
	var out []netip.AddrPort
	for _, line := range strings.Split(i.Offer, "\n") {
		f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(line), "a=candidate:"))
		if !strings.HasPrefix(line, "a=candidate:") || len(f) < 8 || f[7] != "host" {
			continue
		}
		addr, err := netip.ParseAddr(f[4])
		port, perr := strconv.Atoi(f[5])
		if err == nil && perr == nil {
			out = append(out, netip.AddrPortFrom(addr, uint16(port)))
		}
	}
	slices.SortFunc(out, func(a, b netip.AddrPort) int { return a.Compare(b) })
	return slices.Compact(out)
}

// families reports which address families candidates have.
func families(cs []iceCandidate) (v4, v6 bool) {
	for _, c := range cs {
		if a, err := netip.ParseAddr(c.Address); err == nil {
			v4, v6 = v4 || a.Is4(), v6 || a.Is6()
		}
	}
	return v4, v6
}

// joinIn opens a page in b (served from base) and connects it to ws.
func joinIn(t *testing.T, b *browser, base, ws, name, channel, role string) *member {
	t.Helper()
	p, err := b.open(base + "/page.html")
	if err != nil {
		t.Fatalf("open page: %v", err)
	}
	t.Cleanup(func() { _ = p.close() })
	if err := p.eval(capturePCs, nil); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var res connectResult
	args := connectArgs{SignalingURL: ws, ChannelID: channel, Role: role, Codec: "VP8",
		Metadata: map[string]string{"name": name}, Audio: true, Video: true}
	if err := p.call("connect", args, &res); err != nil {
		t.Fatalf("%s connect: %v", name, err)
	}
	if res.ConnectionID == "" {
		t.Fatalf("%s connect failed: %+v", name, res)
	}
	return &member{t: t, name: name, p: p, id: res.ConnectionID, role: role}
}

func (m *member) ice() iceInfo {
	m.t.Helper()
	var out iceInfo
	if err := m.p.eval(iceReport, &out); err != nil {
		m.t.Fatalf("%s ICE report: %v", m.name, err)
	}
	return out
}

// addrsOf lists the addresses of an interface in the suite's namespace
// with their flags, as `ip -6 addr` prints them.
func addrsOf(t *testing.T, dev string) string {
	t.Helper()
	out, err := exec.Command("ip", "-6", "addr", "show", "dev", dev).CombinedOutput()
	if err != nil {
		t.Fatalf("ip addr show %s: %v\n%s", dev, err, out)
	}
	return string(out)
}

// tentative reports whether addr on dev is still in duplicate address
// detection.
func tentative(t *testing.T, dev, addr string) bool {
	t.Helper()
	for _, line := range strings.Split(addrsOf(t, dev), "\n") {
		if strings.Contains(line, "inet6 "+addr+"/") {
			return strings.Contains(line, "tentative")
		}
	}
	t.Fatalf("%s has no address %s:\n%s", dev, addr, addrsOf(t, dev))
	return false
}
