package ingestbench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/kiroku-sfu/kiroku/loadgen"
)

// kiroku's ports inside the servers' namespace (each measurement starts a
// fresh process after the last one exited).
const (
	kirokuSignalingPort = 5000
	kirokuAPIPort       = 3000
	kirokuChannel       = "ingest"
)

// kirokuTarget is cmd/sfu in the servers' namespace and its publishers.
type kirokuTarget struct {
	cmd     *exec.Cmd
	dir     string
	done    chan error
	clients []*loadgen.Client
	players *players
	api     string
}

// kirokuConfig is sora.conf for a measurement: signaling and the API on
// the namespace's addresses (there is nothing else there), media on
// serverAddress, recordings under dir, only errors logged, then extra.
func kirokuConfig(dir, extra string) string {
	return fmt.Sprintf(`signaling_listen_port = %d
signaling_loopback_address_only = false
api_listen_port = %d
api_loopback_address_only = false
ipv4_address = %s
default_video_codec_type = VP8
archive_dir = %s
archive_tmp_dir = %s
log_level = error
`, kirokuSignalingPort, kirokuAPIPort, serverAddress, filepath.Join(dir, "archive"), filepath.Join(dir, "archive_tmp")) + extra + "\n"
}

// startKiroku starts binary in ns with its data under dir, connects n
// publishers, starts recording in format (webm, mp4; empty: none) and
// plays clip into them; extra is appended to its sora.conf. With profile
// the process writes a CPU profile to dir/cpu.pprof until it exits.
func startKiroku(ns *serverNS, binary, dir string, clip *loadgen.Clip, n int, format, extra string, profile bool) (target, error) {
	conf := filepath.Join(dir, "sora.conf")
	if err := os.WriteFile(conf, []byte(kirokuConfig(dir, extra)), 0o644); err != nil {
		return nil, fmt.Errorf("kiroku config: %w", err)
	}
	args := []string{"-config", conf}
	if profile {
		args = append(args, "-cpuprofile", filepath.Join(dir, "cpu.pprof"))
	}
	cmd := ns.command(binary, args...)
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start kiroku: %w", err)
	}
	k := &kirokuTarget{cmd: cmd, dir: dir, done: make(chan error, 1),
		api: fmt.Sprintf("http://%s:%d/", serverAddress, kirokuAPIPort)}
	go func() { k.done <- cmd.Wait() }()
	if err := k.connect(clip, n, format); err != nil {
		return nil, errors.Join(err, k.Close())
	}
	return k, nil
}

func (k *kirokuTarget) connect(clip *loadgen.Clip, n int, format string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := waitListening(ctx, fmt.Sprintf("%s:%d", serverAddress, kirokuSignalingPort), k.done); err != nil {
		return fmt.Errorf("kiroku: %w", err)
	}
	url := fmt.Sprintf("ws://%s:%d/signaling", serverAddress, kirokuSignalingPort)
	clients, err := dialAll(ctx, n, func(ctx context.Context, i int) (*loadgen.Client, error) {
		return loadgen.Dial(ctx, loadgen.ClientConfig{URL: url, Channel: kirokuChannel, Role: loadgen.RoleSendonly,
			Label: fmt.Sprintf("ingest-%d", i), LocalAddress: clientAddress, Audio: true})
	})
	k.clients = clients
	if err != nil {
		return err
	}
	if format != "" {
		body := fmt.Sprintf(`{"channel_id":%q,"format":%q}`, kirokuChannel, format)
		if _, err := k.call(ctx, "Sora_20231220.StartRecording", body); err != nil {
			return err
		}
	}
	writers := make([]loadgen.ClipWriter, len(clients))
	for i, c := range clients {
		writers[i] = c
	}
	k.players = startPlayers(clip, writers)
	return nil
}

// dialAll connects n clients, four at a time, and returns those that
// connected with the first error.
func dialAll[C any](ctx context.Context, n int, dial func(context.Context, int) (C, error)) ([]C, error) {
	out := make([]C, n)
	ok := make([]bool, n)
	errs := make([]error, n)
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			out[i], errs[i] = dial(ctx, i)
			ok[i] = errs[i] == nil
		})
	}
	wg.Wait()
	var got []C
	for i := range n {
		if ok[i] {
			got = append(got, out[i])
		}
	}
	return got, errors.Join(errs...)
}

// waitListening waits until addr accepts TCP connections; the server
// exiting first (its exit on done, which is put back) is an error.
func waitListening(ctx context.Context, addr string, done chan error) error {
	for {
		c, err := (&net.Dialer{Timeout: time.Second}).DialContext(ctx, "tcp", addr)
		if err == nil {
			return c.Close()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not listening: %w", addr, err)
		case exit := <-done:
			done <- exit
			return fmt.Errorf("exited before listening on %s: %v", addr, exit)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// call posts one HTTP API call.
func (k *kirokuTarget) call(ctx context.Context, target, body string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, k.api, strings.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("kiroku api: %w", err)
	}
	req.Header.Set("x-sora-target", target)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("kiroku %s: %w", target, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("kiroku %s: status %d: %s", target, resp.StatusCode, out)
	}
	return string(out), nil
}

func (k *kirokuTarget) Pid() int { return k.cmd.Process.Pid }

func (k *kirokuTarget) Sent() *loadgen.ClipCounters { return &k.players.sent }

// Received reads kiroku_rtp_received_packets_total from /metrics.
func (k *kirokuTarget) Received() (uint64, error) {
	resp, err := http.Get(k.api + "metrics")
	if err != nil {
		return 0, fmt.Errorf("kiroku metrics: %w", err)
	}
	defer resp.Body.Close()
	const name = "kiroku_rtp_received_packets_total "
	lines := bufio.NewScanner(resp.Body)
	for lines.Scan() {
		if v, ok := strings.CutPrefix(lines.Text(), name); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return 0, fmt.Errorf("kiroku metrics: %q: %w", lines.Text(), err)
			}
			return uint64(f), nil
		}
	}
	return 0, fmt.Errorf("kiroku metrics: no %s (%v)", strings.TrimSpace(name), lines.Err())
}

// Recorded is the size of everything under the recording directories.
func (k *kirokuTarget) Recorded() (int64, error) {
	return dirSize(k.dir, "archive", "archive_tmp")
}

// dirSize adds up the regular files under root's subdirectories subs.
func dirSize(root string, subs ...string) (int64, error) {
	var total int64
	for _, sub := range subs {
		err := filepath.WalkDir(filepath.Join(root, sub), func(_ string, d fs.DirEntry, err error) error {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			if err != nil || !d.Type().IsRegular() {
				return err
			}
			info, err := d.Info()
			if err == nil {
				total += info.Size()
			}
			return err
		})
		if err != nil {
			return 0, fmt.Errorf("recording size: %w", err)
		}
	}
	return total, nil
}

// Close stops the players and the clients, then kiroku (SIGTERM, which
// finishes the recordings; SIGKILL after 20 s).
func (k *kirokuTarget) Close() error {
	if k.players != nil {
		k.players.Stop()
	}
	var wg sync.WaitGroup
	errs := make([]error, len(k.clients)+1)
	for i, c := range k.clients {
		wg.Go(func() { errs[i] = c.Close() })
	}
	wg.Wait()
	errs[len(k.clients)] = stopProcess("kiroku", k.cmd, k.done, 20*time.Second)
	return errors.Join(errs...)
}

// stopProcess sends SIGTERM and waits for done, killing the process
// after grace.
func stopProcess(name string, cmd *exec.Cmd, done <-chan error, grace time.Duration) error {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("%s exit: %w", name, err)
		}
		return nil
	case <-time.After(grace):
		_ = cmd.Process.Kill()
		<-done
		return fmt.Errorf("%s did not stop within %v of SIGTERM", name, grace)
	}
}
