package sfubench

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Addresses inside the namespace: the SFU's media address and the load
// generator's.
const (
	sfuAddress    = "198.18.0.1"
	clientAddress = "198.18.0.2"
)

// sfuProcess is a running cmd/sfu.
type sfuProcess struct {
	cmd  *exec.Cmd
	URL  string // signaling URL on 127.0.0.1
	done chan error
}

// sfuConfig is the configuration the SFU runs with: signaling on
// loopback, media announced on the namespace address only, otherwise the
// defaults (one shared UDP port, 1 ms timer slack), and only errors logged (mass departures log a warning per re-offer)
// unless extra sets log_level; extra is appended (more sora.conf lines).
func sfuConfig(port int, extra string) string {
	level := "log_level = error\n"
	if strings.Contains(extra, "log_level") {
		level = ""
	}
	return fmt.Sprintf(`signaling_listen_port = %d
signaling_loopback_address_only = true
ipv4_address = %s
default_video_codec_type = VP8
`, port, sfuAddress) + level + extra
}

// startSFU runs the binary with sfuConfig(port, extra) in dir and waits
// for it to print its signaling URL.
func startSFU(binary, dir string, port int, extra string, stderr io.Writer) (*sfuProcess, error) {
	conf := filepath.Join(dir, "sora.conf")
	if err := os.WriteFile(conf, []byte(sfuConfig(port, extra)), 0o644); err != nil {
		return nil, fmt.Errorf("write sfu config: %w", err)
	}
	cmd := exec.Command(binary, "-config", conf)
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("sfu stdout: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start sfu: %w", err)
	}
	p := &sfuProcess{cmd: cmd, URL: fmt.Sprintf("ws://127.0.0.1:%d/signaling", port), done: make(chan error, 1)}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	go func() {
		_, _ = io.Copy(io.Discard, stdout)
		p.done <- cmd.Wait()
	}()
	if err != nil || !strings.Contains(line, p.URL) {
		return nil, errors.Join(fmt.Errorf("sfu did not announce %s (%q): %w", p.URL, line, err), p.Close())
	}
	return p, nil
}

// Pid is the SFU's process id.
func (p *sfuProcess) Pid() int { return p.cmd.Process.Pid }

// Close stops the SFU with SIGTERM (SIGKILL after 15 s) and reports a
// non-zero exit.
func (p *sfuProcess) Close() error {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		if err != nil {
			return fmt.Errorf("sfu exit: %w", err)
		}
		return nil
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		return errors.New("sfu did not stop within 15 s of SIGTERM")
	}
}
