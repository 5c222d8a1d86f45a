package e2e

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
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

// listenLoopback opens a TCP socket on 127.0.0.1 inside the namespace:
// one goroutine's thread enters the namespace and opens it, and dies with
// that goroutine (it is never unlocked), so no other goroutine ever runs
// in the namespace. The socket stays in the namespace it was made in.
func (n *clientNS) listenLoopback() (net.Listener, error) {
	type result struct {
		ln  net.Listener
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		f, err := os.Open(n.path)
		if err != nil {
			done <- result{err: err}
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			done <- result{err: fmt.Errorf("setns: %w", err)}
			return
		}
		ln, err := net.Listen("tcp4", "127.0.0.1:0")
		done <- result{ln, err}
	}()
	r := <-done
	return r.ln, r.err
}

// servePages serves the test page on 127.0.0.1 inside the namespace (a
// secure context for the browser there) and returns its base URL.
func (n *clientNS) servePages(t *testing.T) string {
	t.Helper()
	ln, err := n.listenLoopback()
	if err != nil {
		t.Fatalf("listen in the client namespace: %v", err)
	}
	hs := &http.Server{Handler: http.FileServer(http.Dir(browserDir)), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() { _ = hs.Close() })
	return "http://" + ln.Addr().String()
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
