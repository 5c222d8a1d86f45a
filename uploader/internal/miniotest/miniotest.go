// Package miniotest runs a real MinIO server on 127.0.0.1 for the
// uploader's tests: a temp data directory, free ports, and a stop that the
// test's cleanup owns. The server binary comes from KIROKU_MINIO_BIN or
// $HOME/.cache/kiroku/bin/minio-*; without one the test fails and says how
// to build it.
package miniotest

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"
)

// Credentials of the test server's root user.
const (
	User     = "kirokutest"
	Password = "kirokutest-secret"
)

// Server is one MinIO process that can be stopped and started again on the
// same address and data directory.
type Server struct {
	Endpoint string // http://127.0.0.1:PORT
	bin      string
	dir      string
	addr     string
	console  string
	t        testing.TB

	mu  sync.Mutex
	cmd *exec.Cmd
}

// Binary finds the MinIO server binary or fails the test.
func Binary(t testing.TB) string {
	t.Helper()
	if bin := os.Getenv("KIROKU_MINIO_BIN"); bin != "" {
		if _, err := os.Stat(bin); err != nil {
			t.Fatalf("KIROKU_MINIO_BIN=%s: %v (run `make deps-minio`)", bin, err)
		}
		return bin
	}
	home, _ := os.UserHomeDir()
	matches, _ := filepath.Glob(filepath.Join(home, ".cache", "kiroku", "bin", "minio-*"))
	if len(matches) == 0 {
		t.Fatal("no MinIO server binary: set KIROKU_MINIO_BIN or run `make deps-minio`")
	}
	sort.Strings(matches)
	return matches[len(matches)-1]
}

// Start runs a fresh server and stops it when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{
		bin: Binary(t), dir: t.TempDir(), t: t,
		addr: freeAddr(t), console: freeAddr(t),
	}
	s.Endpoint = "http://" + s.addr
	s.Restart()
	t.Cleanup(s.Stop)
	return s
}

// Restart starts the server again after Stop (same address, same data) and
// waits until it is live.
func (s *Server) Restart() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return
	}
	cmd := exec.Command(s.bin, "server", s.dir, "--quiet", "--address", s.addr, "--console-address", s.console)
	cmd.Env = append(os.Environ(), "MINIO_ROOT_USER="+User, "MINIO_ROOT_PASSWORD="+Password,
		"MINIO_BROWSER=off", "MINIO_UPDATE=off")
	log, err := os.Create(filepath.Join(s.t.TempDir(), "minio.log"))
	if err != nil {
		s.t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("start minio: %v", err)
	}
	s.cmd = cmd
	if err := waitLive(s.Endpoint, 30*time.Second); err != nil {
		s.t.Fatalf("minio at %s: %v (log %s)", s.Endpoint, err, log.Name())
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

func waitLive(endpoint string, limit time.Duration) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(limit)
	for {
		resp, err := client.Get(endpoint + "/minio/health/live")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("health: %s", resp.Status)
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
