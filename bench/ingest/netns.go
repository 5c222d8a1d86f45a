package ingestbench

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// Addresses on the veth pair: the servers' end and the client's.
const (
	serverAddress = "198.18.0.1"
	clientAddress = "198.18.0.2"
	serverLink    = "kb-srv"
	clientLink    = "kb-cli"
)

// serverNS is the servers' network namespace, held by a sleeping process
// and joined to the caller's namespace (the client's) by a veth pair.
type serverNS struct {
	hold *exec.Cmd
	path string // /proc/PID/ns/net
}

// newServerNS makes the namespace and the veth pair, with lo up on both
// sides. The caller must run in a namespace of its own.
func newServerNS() (*serverNS, error) {
	if err := run("ip", "link", "set", "lo", "up"); err != nil {
		return nil, err
	}
	hold := exec.Command("unshare", "--net", "--", "sleep", "infinity")
	if err := hold.Start(); err != nil {
		return nil, fmt.Errorf("server namespace: %w", err)
	}
	n := &serverNS{hold: hold, path: fmt.Sprintf("/proc/%d/ns/net", hold.Process.Pid)}
	if err := n.setUp(); err != nil {
		return nil, errors.Join(err, n.Close())
	}
	return n, nil
}

func (n *serverNS) setUp() error {
	ours, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		return fmt.Errorf("server namespace: %w", err)
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if theirs, _ := os.Readlink(n.path); theirs != "" && theirs != ours {
			break
		}
		if time.Now().After(deadline) {
			return errors.New("server namespace: holder did not unshare")
		}
	}
	steps := [][]string{
		{"ip", "link", "add", clientLink, "type", "veth", "peer", "name", serverLink, "netns", fmt.Sprint(n.hold.Process.Pid)},
		{"ip", "addr", "add", clientAddress + "/24", "dev", clientLink},
		{"ip", "link", "set", clientLink, "up"},
	}
	for _, s := range steps {
		if err := run(s...); err != nil {
			return err
		}
	}
	for _, s := range [][]string{
		{"ip", "link", "set", "lo", "up"},
		{"ip", "addr", "add", serverAddress + "/24", "dev", serverLink},
		{"ip", "link", "set", serverLink, "up"},
	} {
		if err := run(append([]string{"nsenter", "--net=" + n.path, "--"}, s...)...); err != nil {
			return err
		}
	}
	if err := waitCarrier(clientLink); err != nil {
		return err
	}
	return waitCarrier("nsenter", "--net="+n.path, "--", serverLink)
}

// waitCarrier waits until the link (the last word; the words before it
// run `ip` elsewhere) has its carrier: the kernel reports a veth end
// running only some time after both ends are up, and a server started
// before that (Janus) finds no address to use.
func waitCarrier(where ...string) error {
	link := where[len(where)-1]
	args := append(append([]string{}, where[:len(where)-1]...), "ip", "-o", "link", "show", "dev", link)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
		if err == nil && strings.Contains(string(out), "LOWER_UP") && strings.Contains(string(out), "state UP") {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s has no carrier after 5 s: %v\n%s", link, err, out)
		}
	}
}

// command is name run inside the namespace; nsenter execs it, so the
// started process's id is the program's own.
func (n *serverNS) command(name string, args ...string) *exec.Cmd {
	return exec.Command("nsenter", append([]string{"--net=" + n.path, "--", name}, args...)...)
}

// Close ends the holder, and with it the namespace and the veth pair.
func (n *serverNS) Close() error {
	_ = n.hold.Process.Kill()
	_ = n.hold.Wait()
	return nil
}

// run runs a command and returns its output with any failure.
func run(args ...string) error {
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}
