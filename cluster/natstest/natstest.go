// Package natstest runs real NATS servers with JetStream on 127.0.0.1 for
// tests: one server, or a cluster of several routed to each other, each
// with free ports, a temp store directory and a stop that the test's
// cleanup owns. The binary comes from KIROKU_NATS_SERVER_BIN or
// $HOME/.cache/kiroku/bin/nats-server-*; without one the test fails and
// says how to build it (`make deps-nats`).
package natstest

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server is one nats-server process that can be stopped and started again
// on the same ports and store directory.
type Server struct {
	Name    string
	URL     string // nats://127.0.0.1:PORT
	addr    string
	monitor string
	route   string
	conf    string
	bin     string
	t       testing.TB

	mu  sync.Mutex
	cmd *exec.Cmd
}

// Binary finds the nats-server binary or fails the test.
func Binary(t testing.TB) string {
	t.Helper()
	if bin := os.Getenv("KIROKU_NATS_SERVER_BIN"); bin != "" {
		if _, err := os.Stat(bin); err != nil {
			t.Fatalf("KIROKU_NATS_SERVER_BIN=%s: %v (run `make deps-nats`)", bin, err)
		}
		return bin
	}
	home, _ := os.UserHomeDir()
	matches, _ := filepath.Glob(filepath.Join(home, ".cache", "kiroku", "bin", "nats-server-*"))
	if len(matches) == 0 {
		t.Fatal("no nats-server binary: set KIROKU_NATS_SERVER_BIN or run `make deps-nats`")
	}
	sort.Strings(matches)
	return matches[len(matches)-1]
}

// Start runs one JetStream server and stops it when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	return StartCluster(t, 1)[0]
}

// StartCluster runs n JetStream servers routed into one cluster (n = 1
// is a lone server) and waits until each is healthy. The servers stop
// when the test ends.
func StartCluster(t testing.TB, n int) []*Server {
	t.Helper()
	bin := Binary(t)
	servers := make([]*Server, n)
	for i := range servers {
		s := &Server{Name: fmt.Sprintf("nats%d", i+1), addr: FreeAddr(t), monitor: FreeAddr(t), route: FreeAddr(t), bin: bin, t: t}
		s.URL = "nats://" + s.addr
		servers[i] = s
	}
	for _, s := range servers {
		s.conf = s.writeConf(servers)
		t.Cleanup(s.Stop)
	}
	for _, s := range servers {
		s.startProcess()
	}
	for _, s := range servers {
		s.waitHealthy()
	}
	return servers
}

// URLs joins the servers' client URLs with commas, as cluster_nats_url
// takes them.
func URLs(servers []*Server) string {
	urls := make([]string, len(servers))
	for i, s := range servers {
		urls[i] = s.URL
	}
	return strings.Join(urls, ",")
}

func (s *Server) writeConf(all []*Server) string {
	dir := s.t.TempDir()
	var b strings.Builder
	fmt.Fprintf(&b, "server_name: %s\nlisten: %q\nhttp: %q\n", s.Name, s.addr, s.monitor)
	fmt.Fprintf(&b, "jetstream {\n  store_dir: %q\n  max_memory_store: 64MB\n  max_file_store: 256MB\n}\n", filepath.Join(dir, "js"))
	if len(all) > 1 {
		var routes []string
		for _, o := range all {
			if o != s {
				routes = append(routes, fmt.Sprintf("%q", "nats://"+o.route))
			}
		}
		fmt.Fprintf(&b, "cluster {\n  name: kiroku\n  listen: %q\n  routes: [%s]\n}\n", s.route, strings.Join(routes, ", "))
	}
	path := filepath.Join(dir, "nats.conf")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		s.t.Fatal(err)
	}
	return path
}

// Restart starts the server again after Stop (same ports, same store)
// and waits until it is healthy.
func (s *Server) Restart() {
	s.t.Helper()
	s.startProcess()
	s.waitHealthy()
}

// RestartNoWait starts the server again after Stop without waiting: a
// cluster member cannot be healthy until a quorum of its peers is back.
func (s *Server) RestartNoWait() { s.startProcess() }

func (s *Server) startProcess() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return
	}
	log, err := os.OpenFile(s.conf+".log", os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		s.t.Fatal(err)
	}
	cmd := exec.Command(s.bin, "-c", s.conf)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("start nats-server: %v", err)
	}
	_ = log.Close() // the child holds its own descriptor
	s.cmd = cmd
}

// WaitHealthy waits until the server reports itself healthy (JetStream
// included), or fails the test after 30 s.
func (s *Server) WaitHealthy() { s.t.Helper(); s.waitHealthy() }

func (s *Server) waitHealthy() {
	s.t.Helper()
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := client.Get("http://" + s.monitor + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			err = fmt.Errorf("healthz: %s", resp.Status)
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("nats-server %s: %v (log %s.log)", s.Name, err, s.conf)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop kills the server and waits for it to exit. It is idempotent.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

// FreeAddr returns a free 127.0.0.1:PORT.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
