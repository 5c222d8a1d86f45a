package e2e

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// clientNS is a network namespace of its own for a browser, inside the
// suite's namespace: a sleeping process holds it, and veth pairs join it
// to the suite's namespace, where the SFU runs. Chromium there reaches
// only the addresses the test gives its end of each pair, so the family
// and address its media uses are real.
type clientNS struct {
	pid  int
	path string // /proc/PID/ns/net
}

// newClientNS starts the holder; the namespace goes when the test ends.
func newClientNS(t *testing.T) *clientNS {
	t.Helper()
	hold := exec.Command("unshare", "--net", "--", "sleep", "3600")
	if err := hold.Start(); err != nil {
		t.Fatalf("unshare: %v", err)
	}
	t.Cleanup(func() {
		_ = hold.Process.Kill()
		_ = hold.Wait()
	})
	n := &clientNS{pid: hold.Process.Pid, path: fmt.Sprintf("/proc/%d/ns/net", hold.Process.Pid)}
	ours, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the client namespace", 5*time.Second, func() string {
		if theirs, _ := os.Readlink(n.path); theirs == "" || theirs == ours {
			return "holder not unshared yet"
		}
		return ""
	})
	n.run(t, "ip", "link", "set", "lo", "up")
	return n
}

// run runs a command inside the namespace.
func (n *clientNS) run(t *testing.T, args ...string) {
	t.Helper()
	runHere(t, append([]string{"nsenter", "--net=" + n.path, "--"}, args...)...)
}

// runHere runs a command in the suite's namespace.
func runHere(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// veth joins the namespace to the suite's: here stays in the suite's
// namespace, there goes into n. Both are down and without addresses.
func (n *clientNS) veth(t *testing.T, here, there string) {
	t.Helper()
	runHere(t, "ip", "link", "add", here, "type", "veth", "peer", "name", there, "netns", fmt.Sprint(n.pid))
	t.Cleanup(func() { _ = exec.Command("ip", "link", "del", here).Run() })
}

// link joins the namespace to the suite's by a veth pair (here, there),
// gives each end its addresses (IPv6 ones usable at once: nodad) and
// brings both up.
func (n *clientNS) link(t *testing.T, here, there string, hereAddrs, thereAddrs []string) {
	t.Helper()
	n.veth(t, here, there)
	addrArgs := func(addr, dev string) []string {
		args := []string{"ip", "addr", "add", addr, "dev", dev}
		if strings.Contains(addr, ":") {
			args = append(args, "nodad")
		}
		return args
	}
	for _, a := range hereAddrs {
		runHere(t, addrArgs(a, here)...)
	}
	runHere(t, "ip", "link", "set", here, "up")
	for _, a := range thereAddrs {
		n.run(t, addrArgs(a, there)...)
	}
	n.run(t, "ip", "link", "set", there, "up")
}

// pageServer is a static file server for node, serving argv[1] on
// 127.0.0.1 and printing its port.
const pageServer = `
const http = require("node:http"), fs = require("node:fs"), path = require("node:path");
const root = path.resolve(process.argv[1]);
const types = { ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript", ".json": "application/json" };
const srv = http.createServer((req, res) => {
  const file = path.join(root, path.normalize(decodeURIComponent(new URL(req.url, "http://x").pathname)));
  if (!file.startsWith(root + path.sep)) { res.writeHead(403); return res.end(); }
  fs.readFile(file, (err, data) => {
    if (err) { res.writeHead(404); return res.end(); }
    res.writeHead(200, { "content-type": types[path.extname(file)] ?? "application/octet-stream" });
    res.end(data);
  });
});
srv.listen(0, "127.0.0.1", () => console.log(srv.address().port));
`

// servePages serves the test page on 127.0.0.1 inside the namespace (a
// secure context for the browser there) from a node process in it, and
// returns its base URL. (The test process itself never enters another
// namespace: a thread of it there would fork commands there.)
func (n *clientNS) servePages(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(browserDir)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("nsenter", "--net="+n.path, "--", "node", "-e", pageServer, root)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("page server: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	port, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("page server did not start: %v", err)
	}
	return "http://127.0.0.1:" + strings.TrimSpace(port)
}

// startBrowser launches a Chromium driver inside the namespace, as
// startBrowser does in the suite's; it is closed when the test ends.
func (n *clientNS) startBrowser(t *testing.T) *browser {
	t.Helper()
	cmd := exec.Command("nsenter", "--net="+n.path, "--", "node", "driver.mjs")
	cmd.Dir = browserDir
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start driver: %v", err)
	}
	b := &browser{cmd: cmd, stdin: stdin, replies: bufio.NewScanner(stdout)}
	b.replies.Buffer(make([]byte, 1<<20), 16<<20)
	t.Cleanup(func() { _ = b.close() })
	var ready driverReply
	if err := b.read(&ready); err != nil || !ready.OK {
		t.Fatalf("driver did not start: %v %s", err, ready.Error)
	}
	return b
}
