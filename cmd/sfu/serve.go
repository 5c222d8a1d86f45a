package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kiroku-sfu/kiroku/api"
	"github.com/kiroku-sfu/kiroku/archive"
	"github.com/kiroku-sfu/kiroku/config"
	"github.com/kiroku-sfu/kiroku/relay"
	"github.com/kiroku-sfu/kiroku/sfu"
	"github.com/kiroku-sfu/kiroku/signaling"
	"github.com/kiroku-sfu/kiroku/webhooks"
)

// serveConfig holds the process-level keys of sora.conf.
type serveConfig struct {
	SignalingPort         uint16        `conf:"signaling_listen_port"`
	SignalingLoopbackOnly bool          `conf:"signaling_loopback_address_only"`
	APIPort               uint16        `conf:"api_listen_port"`
	APILoopbackOnly       bool          `conf:"api_loopback_address_only"`
	LogLevel              string        `conf:"log_level"`
	LogDir                string        `conf:"log_dir"`
	ShutdownTimeout       time.Duration `conf:"shutdown_timeout"`
	TimerSlack            time.Duration `conf:"timer_slack"`
}

// turnConfig holds the built-in TURN server's keys (Sora's names).
type turnConfig struct {
	Enabled bool   `conf:"turn"`
	Port    uint16 `conf:"turn_port"`
	TCP     bool   `conf:"turn_tcp"`
	FQDN    string `conf:"turn_fqdn"`
	Realm   string `conf:"turn_realm"`
}

// serveSettings is every component's configuration, defaults first.
type serveSettings struct {
	serve     serveConfig
	sfu       sfu.Config
	signaling signaling.Config
	webhooks  webhooks.Config
	hookOpts  signaling.WebhookOptions
	archive   archive.Config
	turn      turnConfig
}

func defaultSettings() serveSettings {
	return serveSettings{
		serve: serveConfig{SignalingPort: 5000, APIPort: 3000, APILoopbackOnly: true,
			LogLevel: "info", ShutdownTimeout: 10 * time.Second, TimerSlack: time.Millisecond},
		sfu:       sfu.DefaultConfig(),
		signaling: signaling.DefaultConfig(),
		webhooks:  webhooks.DefaultConfig(),
		archive:   archive.DefaultConfig(),
		turn:      turnConfig{Port: 3478, Realm: "kiroku"},
	}
}

// runServe runs the SFU until SIGTERM or SIGINT, then closes every
// connection with a reason and returns 0.
func runServe(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sfu", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "sora.conf-style configuration file (defaults when absent)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile (pprof) to this file until shutdown")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	st, err := loadSettings(*path)
	if err != nil {
		fmt.Fprintln(stderr, "sfu:", err)
		return 2
	}
	logger, closeLog, err := newLogger(st.serve, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "sfu:", err)
		return 1
	}
	defer closeLog()
	if err := applyTimerSlack(st.serve.TimerSlack); err != nil {
		logger.Warn("running with the default timer slack", "err", err)
	}
	if *cpuProfile != "" {
		stopProfile, err := startCPUProfile(*cpuProfile)
		if err != nil {
			fmt.Fprintln(stderr, "sfu:", err)
			return 1
		}
		defer stopProfile()
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := serve(ctx, st, logger, stdout); err != nil {
		logger.Error("sfu stopped", "err", err)
		return 1
	}
	return 0
}

// startCPUProfile profiles the process into path (pprof format, for `go
// tool pprof`) until the returned function is called.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		return nil, errors.Join(fmt.Errorf("cpu profile: %w", err), f.Close())
	}
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close()
	}, nil
}

func loadSettings(path string) (serveSettings, error) {
	st := defaultSettings()
	if path != "" {
		if err := config.Load(path, &st.serve, &st.sfu, &st.signaling, &st.webhooks, &st.hookOpts, &st.archive, &st.turn); err != nil {
			return st, err
		}
	}
	if st.serve.SignalingPort == 0 || st.serve.APIPort == 0 || st.serve.ShutdownTimeout <= 0 {
		return st, errors.New("signaling_listen_port, api_listen_port and shutdown_timeout must be positive")
	}
	if st.serve.TimerSlack < 0 || st.serve.TimerSlack > time.Second {
		return st, fmt.Errorf("timer_slack %v: want 0 (kernel default) up to 1 s", st.serve.TimerSlack)
	}
	// The webhook client bounds each call; the margin covers connecting.
	st.signaling.AuthTimeout = st.webhooks.Timeout + time.Second
	st.webhooks.LogDir = st.serve.LogDir
	st.archive.Label, st.archive.NodeName = st.webhooks.Label, st.webhooks.NodeName
	var turnErr error
	if st.turn.Enabled {
		rc := st.turn.relayConfig(st.sfu.ICEAddress, nil)
		turnErr = rc.Validate()
	}
	return st, errors.Join(st.sfu.Validate(), st.signaling.Validate(), st.webhooks.Validate(), st.archive.Validate(), turnErr)
}

// relayConfig is the TURN server's configuration on the media address.
func (t turnConfig) relayConfig(address string, logger *slog.Logger) relay.Config {
	return relay.Config{Address: address, Port: t.Port, TCP: t.TCP, Host: t.FQDN, Realm: t.Realm, Logger: logger}
}

func newLogger(c serveConfig, stderr io.Writer) (*slog.Logger, func(), error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return nil, nil, fmt.Errorf("log_level %q: %w", c.LogLevel, err)
	}
	out, closeFn := stderr, func() {}
	if c.LogDir != "" {
		f, err := os.OpenFile(filepath.Join(c.LogDir, "sfu.jsonl"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return nil, nil, fmt.Errorf("open log: %w", err)
		}
		out, closeFn = f, func() { _ = f.Close() }
	}
	return slog.New(slog.NewJSONHandler(out, &slog.HandlerOptions{Level: level})), closeFn, nil
}

// components are the running parts of the SFU process.
type components struct {
	hooks    *webhooks.Client
	recHooks *recordingHooks
	notifier *orderedNotifier
	core     *sfu.SFU
	sig      *signaling.Server
	rec      *archive.Manager
	api      *api.Server
	turn     *relay.Server // nil unless turn = true
}

// build creates the webhook client, the SFU, the signaling server and
// the archive manager, wired to each other. The recording hooks sit
// between the SFU and signaling and their webhooks; they learn the SFU
// and the manager here, before anything is served.
func build(st serveSettings, logger *slog.Logger) (*components, error) {
	hooks, err := webhooks.New(st.webhooks, logger.With("component", "webhooks"), nil)
	if err != nil {
		return nil, err
	}
	adapter := signaling.NewWebhooks(hooks, st.hookOpts)
	ledger := &hookLedger{client: hooks}
	rh := newRecordingHooks(adapter, ledger, st.hookOpts, logger.With("component", "recording"))
	st.sfu.Logger, st.sfu.Observer = logger.With("component", "sfu"), rh
	st.signaling.Logger = logger.With("component", "signaling")
	st.signaling.Authenticator, st.signaling.Events = adapter, rh
	c := &components{hooks: hooks, recHooks: rh}
	if st.turn.Enabled {
		if c.turn, err = relay.New(st.turn.relayConfig(st.sfu.ICEAddress, logger.With("component", "turn"))); err != nil {
			return nil, errors.Join(err, hooks.Close(context.Background()))
		}
		st.signaling.TURN = c.turn
	}
	if c.core, err = sfu.New(st.sfu); err != nil {
		return nil, errors.Join(err, c.closeTURN(), hooks.Close(context.Background()))
	}
	if c.sig, err = signaling.New(st.signaling, c.core); err != nil {
		return nil, errors.Join(err, c.core.Close(), c.closeTURN(), hooks.Close(context.Background()))
	}
	c.notifier = newOrderedNotifier(archive.WebhookNotifier{Client: hooks}, ledger, hookWait)
	c.rec, err = archive.NewManager(st.archive, archive.Deps{Logger: logger.With("component", "archive"),
		Notifier: c.notifier, Channels: c.sig})
	if err != nil {
		c.notifier.Close()
		return nil, errors.Join(err, c.sig.Shutdown(context.Background()), c.core.Close(), c.closeTURN(),
			hooks.Close(context.Background()))
	}
	rh.core, rh.rec = c.core, c.rec
	backend := &apiBackend{core: c.core, sig: c.sig, hooks: hooks, rec: recorderAPI{c.rec}, info: st.webhooks, turn: c.turn}
	if c.api, err = api.NewServer(backend, recorderAPI{c.rec}, logger.With("component", "api")); err != nil {
		return nil, errors.Join(err, c.shutdown(context.Background()))
	}
	return c, nil
}

// shutdown closes every connection with a reason, lets the recordings
// finish and deliver their files, then flushes webhooks.
func (c *components) shutdown(ctx context.Context) error {
	err := errors.Join(c.sig.Shutdown(ctx), c.core.Close(), c.closeTURN())
	c.recHooks.Close()
	err = errors.Join(err, c.rec.Close())
	c.notifier.Close()
	return errors.Join(err, c.hooks.Close(ctx))
}

// closeTURN stops the TURN server, if there is one.
func (c *components) closeTURN() error {
	if c.turn == nil {
		return nil
	}
	return c.turn.Close()
}

// recoverArchives finishes what a crash left in archive_tmp_dir.
func (c *components) recoverArchives(logger *slog.Logger) error {
	res, err := c.rec.Recover()
	if err != nil {
		return err
	}
	if res != (archive.Recovered{}) {
		logger.Warn("recovered recordings left by a crash", "files", res.Files, "reports", res.Reports,
			"quarantined", res.Quarantined)
	}
	return nil
}

// listener is one HTTP server on its own port.
type listener struct {
	srv    *http.Server
	addr   net.Addr
	served chan error // Serve's result
}

func listen(port uint16, loopbackOnly bool, h http.Handler) (*listener, error) {
	ln, err := net.Listen("tcp", listenAddr(port, loopbackOnly))
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	l := &listener{srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}, addr: ln.Addr(),
		served: make(chan error, 1)}
	go func() { l.served <- l.srv.Serve(ln) }()
	return l, nil
}

// stop closes the listener and waits for Serve to return.
func (l *listener) stop(ctx context.Context) error {
	err := l.srv.Shutdown(ctx)
	if serr := <-l.served; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}

// serve builds the components, serves signaling and the API until ctx
// ends or a listener fails, then shuts down within the configured time.
func serve(ctx context.Context, st serveSettings, logger *slog.Logger, stdout io.Writer) error {
	c, err := build(st, logger)
	if err != nil {
		return err
	}
	if err := c.recoverArchives(logger); err != nil {
		return errors.Join(err, c.shutdown(context.Background()))
	}
	sigL, err := listen(st.serve.SignalingPort, st.serve.SignalingLoopbackOnly, c.sig.Handler())
	if err != nil {
		return errors.Join(err, c.shutdown(context.Background()))
	}
	apiL, err := listen(st.serve.APIPort, st.serve.APILoopbackOnly, c.api)
	if err != nil {
		return errors.Join(err, sigL.stop(context.Background()), c.shutdown(context.Background()))
	}
	fmt.Fprintf(stdout, "kiroku: signaling on ws://%s%s\n", displayAddr(sigL.addr), signaling.Path)
	fmt.Fprintf(stdout, "kiroku: HTTP API on http://%s/\n", displayAddr(apiL.addr))
	if c.turn != nil {
		fmt.Fprintf(stdout, "kiroku: TURN on %s (clients told to relay only)\n", strings.Join(c.turn.URLs(), " "))
	}
	if p := st.sfu.UDPPort; p != 0 {
		fmt.Fprintf(stdout, "kiroku: media on UDP port %d\n", p)
	} else {
		fmt.Fprintf(stdout, "kiroku: media on UDP ports %d-%d\n", st.sfu.UDPPortMin, st.sfu.UDPPortMax)
	}
	logger.Info("serving", "signaling", sigL.addr.String(), "api", apiL.addr.String())
	select {
	case <-ctx.Done():
	case <-sigL.served:
		err = errors.New("signaling listener stopped")
	case <-apiL.served:
		err = errors.New("api listener stopped")
	}
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), st.serve.ShutdownTimeout)
	defer cancel()
	if err != nil {
		return errors.Join(err, c.shutdown(sctx))
	}
	return errors.Join(sigL.stop(sctx), apiL.stop(sctx), c.shutdown(sctx))
}

func listenAddr(port uint16, loopbackOnly bool) string {
	host := ""
	if loopbackOnly {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, strconv.Itoa(int(port)))
}

// displayAddr names a wildcard listener by 127.0.0.1 so the printed URL
// works as is.
func displayAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok || !tcp.IP.IsUnspecified() {
		return a.String()
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(tcp.Port))
}
