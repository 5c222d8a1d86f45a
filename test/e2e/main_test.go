package e2e

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/kiroku-sfu/kiroku/sfu"
	"github.com/kiroku-sfu/kiroku/signaling"
)

// browserDir holds the page, the driver and node_modules.
const browserDir = "../browser"

// mediaAddress is the address the SFU announces inside the namespace.
const mediaAddress = "198.18.0.1"

// env is what every test shares: one SFU, one signaling server that also
// serves the test page, one browser.
type env struct {
	sfu     *sfu.SFU
	sig     *signaling.Server
	events  *observer
	http    *http.Server
	base    string // http://127.0.0.1:PORT
	ws      string // ws://127.0.0.1:PORT/signaling
	browser *browser
	// sfuBinary is cmd/sfu, built on first use by buildSFU.
	sfuBinary struct {
		once      sync.Once
		dir, path string
		err       error
	}
}

// shared is set by TestMain before any test runs and never changed after.
var shared *env

func TestMain(m *testing.M) {
	if os.Getenv("KIROKU_NETNS") != "1" {
		os.Exit(reexecInNamespace())
	}
	e, err := startEnv()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	shared = e
	code := m.Run()
	if err := e.close(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: shutdown:", err)
		code = 1
	}
	os.Exit(code)
}

// reexecInNamespace runs this test binary again inside netns.sh and
// returns its exit code. Missing tools fail the run rather than skip it.
func reexecInNamespace() int {
	for _, tool := range []string{"unshare", "ip", "node", "/usr/bin/chromium"} {
		if _, err := exec.LookPath(tool); err != nil {
			fmt.Fprintf(os.Stderr, "e2e: %s is required (make deps): %v\n", tool, err)
			return 1
		}
	}
	if _, err := os.Stat(filepath.Join(browserDir, "node_modules", "sora-js-sdk")); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: browser modules missing; run `make deps-node`:", err)
		return 1
	}
	script, err := filepath.Abs(filepath.Join(browserDir, "netns.sh"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	cmd := exec.Command(script, append([]string{os.Args[0]}, os.Args[1:]...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode()
		}
		fmt.Fprintln(os.Stderr, "e2e: run in namespace:", err)
		return 1
	}
	return 0
}

func startEnv() (*env, error) {
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	sc := sfu.DefaultConfig()
	obs := &observer{}
	sc.ICEAddress, sc.Logger, sc.Observer = mediaAddress, logger, obs
	// The browsers' media is read in coalesced batches outside Go's
	// poller, the setting for nodes that mostly record (off by default;
	// the sfu package's tests cover the poller).
	sc.UDPReceiveCoalesce = sfu.MaxUDPReceiveCoalesce
	core, err := sfu.New(sc)
	if err != nil {
		return nil, err
	}
	gc := signaling.DefaultConfig()
	gc.Logger, gc.Authenticator = logger, metadataAuth{}
	// Short enough that the ping/pong test sees several rounds.
	gc.PingInterval, gc.PongTimeout = time.Second, 3*time.Second
	sig, err := signaling.New(gc, core)
	if err != nil {
		return nil, errors.Join(err, core.Close())
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, errors.Join(err, core.Close())
	}
	mux := http.NewServeMux()
	mux.Handle(signaling.Path, sig)
	mux.Handle("/", http.FileServer(http.Dir(browserDir)))
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	e := &env{sfu: core, sig: sig, http: hs, events: obs, base: "http://" + ln.Addr().String(),
		ws: "ws://" + ln.Addr().String() + signaling.Path}
	if e.browser, err = startBrowser(browserDir); err != nil {
		return nil, errors.Join(err, e.close())
	}
	return e, nil
}

func (e *env) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var errs []error
	if e.browser != nil {
		errs = append(errs, e.browser.close())
	}
	errs = append(errs, e.http.Shutdown(ctx), e.sig.Shutdown(ctx), e.sfu.Close())
	if e.sfuBinary.dir != "" {
		errs = append(errs, os.RemoveAll(e.sfuBinary.dir))
	}
	return errors.Join(errs...)
}
