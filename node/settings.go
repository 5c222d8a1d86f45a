package node

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/kiroku-sfu/kiroku/api"
	"github.com/kiroku-sfu/kiroku/archive"
	"github.com/kiroku-sfu/kiroku/cluster"
	"github.com/kiroku-sfu/kiroku/config"
	"github.com/kiroku-sfu/kiroku/devtools"
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
	LogStdout             bool          `conf:"log_stdout"`
	ShutdownTimeout       time.Duration `conf:"shutdown_timeout"`
	TimerSlack            time.Duration `conf:"timer_slack"`
}

// turnConfig holds the built-in TURN server's keys (Sora's names, and
// kiroku's own for the PROXY protocol).
type turnConfig struct {
	Enabled       bool     `conf:"turn"`
	Port          uint16   `conf:"turn_port"`
	TCP           bool     `conf:"turn_tcp"`
	TCPListenPort uint16   `conf:"turn_tcp_listen_port"`
	TCPPort       uint16   `conf:"turn_tcp_port"`
	TLS           bool     `conf:"turn_tls"`
	TLSFQDN       string   `conf:"turn_tls_fqdn"`
	TLSPort       uint16   `conf:"turn_tls_port"`
	FQDN          string   `conf:"turn_fqdn"`
	Realm         string   `conf:"turn_realm"`
	ProxyProtocol bool     `conf:"turn_tcp_proxy_protocol"`
	ProxySources  []string `conf:"turn_tcp_proxy_protocol_sources"`
}

// Settings is every component's configuration, defaults first. Load it
// with LoadSettings.
type Settings struct {
	serve     serveConfig
	sfu       sfu.Config
	signaling signaling.Config
	webhooks  webhooks.Config
	hookOpts  signaling.WebhookOptions
	archive   archive.Config
	turn      turnConfig
	tools     devtools.Config
	api       api.Config
	cluster   cluster.Config
	// ignored lists the Sora keys the file set that kiroku does not
	// implement (nil when none); build logs it once.
	ignored *config.Warning
}

func defaultSettings() Settings {
	return Settings{
		serve: serveConfig{SignalingPort: 5000, APIPort: 3000, APILoopbackOnly: true,
			LogLevel: "info", ShutdownTimeout: 10 * time.Second, TimerSlack: time.Millisecond},
		sfu:       sfu.DefaultConfig(),
		signaling: signaling.DefaultConfig(),
		webhooks:  webhooks.DefaultConfig(),
		archive:   archive.DefaultConfig(),
		turn:      turnConfig{Port: 3478, TLSPort: 5349, Realm: "kiroku"},
		tools:     devtools.DefaultConfig(),
		cluster:   cluster.DefaultConfig(),
	}
}

// LoadSettings reads a sora.conf-style file over the defaults (the
// defaults alone when path is empty) and validates every component's part.
func LoadSettings(path string) (Settings, error) {
	st := defaultSettings()
	if path != "" {
		w, err := config.LoadSora(path, &st.serve, &st.sfu, &st.signaling, &st.webhooks, &st.hookOpts, &st.archive, &st.turn, &st.tools, &st.api, &st.cluster)
		if err != nil {
			return st, err
		}
		st.ignored = w
	}
	st.api = st.api.WithDefaultOrigins(st.serve.SignalingPort)
	if st.serve.SignalingPort == 0 || st.serve.APIPort == 0 || st.serve.ShutdownTimeout <= 0 {
		return st, errors.New("signaling_listen_port, api_listen_port and shutdown_timeout must be positive")
	}
	if st.serve.TimerSlack < 0 || st.serve.TimerSlack > time.Second {
		return st, fmt.Errorf("timer_slack %v: want 0 (kernel default) up to 1 s", st.serve.TimerSlack)
	}
	// The webhook client bounds each call; the margin covers connecting.
	st.signaling.AuthTimeout = st.webhooks.Timeout + time.Second
	st.webhooks.LogDir = st.serve.LogDir
	if st.cluster.NodeName != "" {
		st.webhooks.NodeName = st.cluster.NodeName // webhooks, sessions and recordings name the node
	}
	st.cluster.Version = st.signaling.Version
	st.archive.Label, st.archive.NodeName = st.webhooks.Label, st.webhooks.NodeName
	var turnErr error
	if st.turn.Enabled {
		rc := st.turn.relayConfig(st.sfu, nil)
		turnErr = rc.Validate()
	}
	return st, errors.Join(st.sfu.Validate(), st.signaling.Validate(), st.webhooks.Validate(), st.archive.Validate(), turnErr, st.tools.Validate(), st.api.Validate(), st.cluster.Validate())
}

// relayConfig is the TURN server's configuration on the media addresses:
// ipv4_address, and ipv6_address with IPv6 on.
func (t turnConfig) relayConfig(media sfu.Config, logger *slog.Logger) relay.Config {
	address6 := ""
	if media.IPv6 {
		address6 = media.IPv6Address
	}
	return relay.Config{Address: media.ICEAddress, Address6: address6, Port: t.Port, TCP: t.TCP, TCPListenPort: t.TCPListenPort, TCPPort: t.TCPPort,
		TLS: t.TLS, TLSHost: t.TLSFQDN, TLSPort: t.TLSPort, ProxyProtocol: t.ProxyProtocol, ProxySources: t.ProxySources,
		Host: t.FQDN, Realm: t.Realm, Logger: logger}
}

// ApplyTimerSlack sets the process's timer slack from timer_slack; on
// Linux it may re-execute the process (see applyTimerSlack).
func (s Settings) ApplyTimerSlack() error { return applyTimerSlack(s.serve.TimerSlack) }
