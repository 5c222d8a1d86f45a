package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The network edge of seed 000: a client namespace that reaches the
// server only over TCP 443, where nginx (deploy/nginx/kiroku.conf, the
// example itself) splits signaling, TURN-TLS and TURN-TCP by SNI.
const (
	edgeServer = "198.19.0.1" // nginx's address, on the server's end of the edge veth pair
	edgeClient = "198.19.0.2" // the browser's, in a namespace of its own
	edgeSite   = "sora.test"
	edgeTURN   = "sora-turn.test"
)

// edgeCert writes a test CA and a certificate it signs for the test
// names, and returns the CA's, the certificate's and its key's paths.
func edgeCert(t *testing.T, dir string) (ca, cert, key string) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kiroku test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: edgeSite},
		DNSNames: []string{edgeSite, edgeTURN}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, caTmpl, &leafKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(leafKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, cert, key = filepath.Join(dir, "ca.pem"), filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	for path, block := range map[string]*pem.Block{ca: {Type: "CERTIFICATE", Bytes: caDER},
		cert: {Type: "CERTIFICATE", Bytes: leafDER}, key: {Type: "EC PRIVATE KEY", Bytes: keyDER}} {
		if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return ca, cert, key
}

// edgeHome makes a home directory whose NSS database trusts the test CA:
// Chromium checks the certificates of pages and of TURN-TLS servers
// against it.
func edgeHome(t *testing.T, ca string) string {
	t.Helper()
	home := t.TempDir()
	db := filepath.Join(home, ".pki", "nssdb")
	if err := os.MkdirAll(db, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"-N", "-d", "sql:" + db, "--empty-password"},
		{"-A", "-d", "sql:" + db, "-n", "kiroku-test-ca", "-t", "C,,", "-i", ca}} {
		if out, err := exec.Command("certutil", args...).CombinedOutput(); err != nil {
			t.Fatalf("certutil %v: %v: %s", args, err, out)
		}
	}
	return home
}

// startEdgeNginx runs nginx with deploy/nginx/kiroku.conf, its names,
// paths and ports replaced by the test's: signaling at sigPort, TURN-TCP
// at turnTCP on the media address, and the page server for "/".
func startEdgeNginx(t *testing.T, sigPort int, turnTCP uint16) (ca string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "deploy", "nginx", "kiroku.conf"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ca, cert, key := edgeCert(t, dir)
	conf := strings.NewReplacer(
		"user www-data;", "user root;", // the test's unix sockets and files are root's
		"/run/nginx.pid", filepath.Join(dir, "nginx.pid"),
		"/run/kiroku-nginx/", dir+"/",
		"/etc/letsencrypt/live/sora.example.com/fullchain.pem", cert,
		"/etc/letsencrypt/live/sora.example.com/privkey.pem", key,
		"/var/log/nginx/", dir+"/",
		"sora-turn.example.com", edgeTURN,
		"sora.example.com", edgeSite,
		"listen 443;", "listen "+edgeServer+":443;",
		"192.0.2.10:3478", fmt.Sprintf("%s:%d", mediaAddress, turnTCP),
	).Replace(string(raw))
	// "/" is the dev tools page in the example; here it is the test pages.
	devTools := "location / {\n            proxy_pass http://127.0.0.1:5000;"
	if !strings.Contains(conf, devTools) {
		t.Fatal("deploy/nginx/kiroku.conf: no dev tools location to point at the test pages")
	}
	conf = strings.Replace(conf, devTools, "location / {\n            proxy_pass "+shared.base+";", 1)
	conf = strings.ReplaceAll(conf, "127.0.0.1:5000", fmt.Sprintf("127.0.0.1:%d", sigPort))
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("nginx", "-t", "-q", "-c", path).CombinedOutput(); err != nil {
		t.Fatalf("nginx -t: %v: %s", err, out)
	}
	cmd := exec.Command("nginx", "-c", path, "-g", "daemon off; error_log "+filepath.Join(dir, "error.log")+";")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt) // SIGINT: fast shutdown, sockets removed
		_ = cmd.Wait()
		if b, err := os.ReadFile(filepath.Join(dir, "error.log")); err == nil && len(b) > 0 {
			t.Logf("nginx error log:\n%s", b)
		}
	})
	waitFor(t, "nginx listening", 10*time.Second, func() string {
		if _, err := os.Stat(filepath.Join(dir, "https.sock")); err != nil {
			return err.Error()
		}
		return ""
	})
	return ca
}

// edgeNamespace makes the client's namespace: a veth pair from the test's
// namespace, edgeServer on this end and edgeClient on the other, where
// every UDP datagram leaving is dropped (nftables). It returns the pid of
// the process that holds the namespace.
func edgeNamespace(t *testing.T) int {
	t.Helper()
	hold := exec.Command("unshare", "--net", "--", "sleep", "86400")
	if err := hold.Start(); err != nil {
		t.Fatal(err)
	}
	pid := hold.Process.Pid
	t.Cleanup(func() { _ = hold.Process.Kill(); _ = hold.Wait(); _ = exec.Command("ip", "link", "del", "e0").Run() })
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v: %s", args, err, out)
		}
	}
	ns := func(args ...string) []string {
		return append([]string{"nsenter", "-t", fmt.Sprint(pid), "-n", "--"}, args...)
	}
	waitFor(t, "the client namespace", 5*time.Second, func() string {
		own, _ := os.Readlink("/proc/self/ns/net")
		its, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", pid))
		if err != nil || its == own {
			return "not yet unshared"
		}
		return ""
	})
	run("ip", "link", "add", "e0", "type", "veth", "peer", "name", "e1")
	run("ip", "addr", "add", edgeServer+"/24", "dev", "e0")
	run("ip", "link", "set", "e0", "up")
	run("ip", "link", "set", "e1", "netns", fmt.Sprint(pid))
	run(ns("ip", "link", "set", "lo", "up")...)
	run(ns("ip", "addr", "add", edgeClient+"/24", "dev", "e1")...)
	run(ns("ip", "link", "set", "e1", "up")...)
	rules := filepath.Join(t.TempDir(), "udp-drop.nft")
	if err := os.WriteFile(rules, []byte(`table inet kiroku_edge {
	chain out {
		type filter hook output priority 0; policy accept;
		oifname "lo" accept
		meta l4proto udp counter drop
	}
}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	run(ns("nft", "-f", rules)...)
	return pid
}

// startEdgeBrowser runs the browser driver in the client namespace, with
// the test names resolved to nginx and the test CA trusted.
func startEdgeBrowser(t *testing.T, pid int, ca string) *browser {
	t.Helper()
	args, err := json.Marshal([]string{
		fmt.Sprintf("--host-resolver-rules=MAP %s %s, MAP %s %s, MAP %s. %s", edgeSite, edgeServer, edgeTURN, edgeServer, edgeTURN, edgeServer),
	})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("nsenter", "-t", fmt.Sprint(pid), "-n", "--", "node", "driver.mjs")
	cmd.Env = append(os.Environ(), "KIROKU_CHROMIUM_ARGS="+string(args), "HOME="+edgeHome(t, ca))
	b, err := startBrowserCmd(cmd, browserDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.close() })
	return b
}

// TestEdge443 connects two sora-js-sdk pages through nginx on port 443
// from a namespace where UDP is blocked: signaling over wss://, media of
// one page over TURN-TCP and of the other over TURN-TLS (each forced to
// that URL), both decode each other, and their recording is correct.
func TestEdge443(t *testing.T) {
	hooks := &hookLog{}
	turnUDP, turnTCP := freeUDPPort(t), uint16(freePort(t))
	srv := startRecServer(t, hooks, fmt.Sprintf(`turn = true
turn_port = %d
turn_fqdn = %s
turn_realm = %s
turn_tcp = true
turn_tcp_listen_port = %d
turn_tcp_port = 443
turn_tls = true
turn_tls_fqdn = %s
turn_tls_port = 443
turn_tcp_proxy_protocol = true
turn_tcp_proxy_protocol_sources = %s, 127.0.0.1
signaling_forwarded_headers = true
signaling_forwarded_sources = 127.0.0.1
`, turnUDP, edgeTURN, edgeTURN, turnTCP, edgeTURN, mediaAddress))
	ns := edgeNamespace(t) // nginx listens on its veth pair
	ca := startEdgeNginx(t, portOf(t, srv.ws), turnTCP)
	b := startEdgeBrowser(t, ns, ca)

	join := func(name, filter string) *member {
		t.Helper()
		p, err := b.open("https://" + edgeSite + "/page.html")
		if err != nil {
			t.Fatalf("open page through nginx: %v", err)
		}
		t.Cleanup(func() { _ = p.close() })
		var res connectResult
		args := connectArgs{SignalingURL: "wss://" + edgeSite + "/signaling", ChannelID: "edge", Role: "sendrecv", Codec: "VP8",
			Metadata: map[string]any{"name": name}, Audio: true, Video: true, ICEServerFilter: filter}
		if err := p.call("connect", args, &res); err != nil || res.ConnectionID == "" {
			t.Fatalf("%s connect through nginx: %v %+v", name, err, res)
		}
		return &member{t: t, name: name, p: p, id: res.ConnectionID, role: "sendrecv"}
	}
	tcp := join("turn-tcp", `^turn:.*transport=tcp$`)
	tls := join("turn-tls", `^turns:`)
	expectFlow(t, tcp, tls, "VP8")
	expectFlow(t, tls, tcp, "VP8")
	for m, want := range map[*member]string{tcp: "tcp", tls: "tls"} {
		var tr transportInfo
		if err := m.p.call("transport", nil, &tr); err != nil {
			t.Fatal(err)
		}
		if tr.LocalType != "relay" || tr.LocalProtocol != want {
			t.Errorf("%s: selected pair %+v, want a relay candidate over %s", m.name, tr, want)
		}
	}
	// nginx forwards the client's address; the webhooks name it.
	for _, m := range []*member{tcp, tls} {
		for _, typ := range []string{"auth", "connection.created"} {
			w := hooks.waitHook(t, typ, 5*time.Second, func(w webhook) bool { return w.Body["connection_id"] == m.id })
			if w.Body["client_address"] != edgeClient {
				t.Errorf("%s webhook of %s: client_address %v, want the client's %s", typ, m.name, w.Body["client_address"], edgeClient)
			}
		}
	}
	var listed []map[string]any
	srv.api(t, "Sora_20201013.ListChannelConnections", map[string]any{"channel_id": "edge"}, &listed)
	for _, c := range listed {
		if c["client_address"] != edgeClient {
			t.Errorf("ListChannelConnections: %s's client_address %v, want %s", c["connection_id"], c["client_address"], edgeClient)
		}
	}
	var stats map[string]any
	srv.api(t, "Sora_20171010.GetStatsReport", map[string]any{}, &stats)
	if n, _ := stats["total_turn_tcp_connections"].(float64); n < 2 {
		t.Errorf("total_turn_tcp_connections %v, want both pages' allocations", stats["total_turn_tcp_connections"])
	}

	var rec recordingInfo
	srv.api(t, "Sora_20231220.StartRecording", map[string]any{"channel_id": "edge", "format": "webm"}, &rec)
	time.Sleep(5 * time.Second)
	srv.api(t, "Sora_20231220.StopRecording", map[string]any{"channel_id": "edge"}, nil)
	for _, m := range []*member{tcp, tls} {
		hooks.waitHook(t, "archive.available", 30*time.Second, func(w webhook) bool {
			return w.data("recording_id") == rec.RecordingID && w.Body["connection_id"] == m.id
		})
		checkCodecFile(t, filepath.Join(srv.archive, rec.RecordingID, "archive-"+m.id+".webm"), "VP8", 5*time.Second)
	}
}

// portOf is the port of a ws://HOST:PORT/… URL.
func portOf(t *testing.T, url string) int {
	t.Helper()
	var port int
	rest := url[strings.LastIndex(url, ":")+1:]
	if _, err := fmt.Sscanf(rest, "%d", &port); err != nil {
		t.Fatalf("no port in %s", url)
	}
	return port
}
