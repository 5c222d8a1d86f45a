package signaling

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Config holds the signaling settings. Start from [DefaultConfig].
type Config struct {
	// ForwardedHeaders believes X-Real-IP and X-Forwarded-For from
	// ForwardedSources: the client's address is theirs (clientaddr.go).
	ForwardedHeaders bool `conf:"signaling_forwarded_headers"`
	// ForwardedSources are the reverse proxies' addresses or CIDR
	// prefixes.
	ForwardedSources []string `conf:"signaling_forwarded_sources"`
	// MaxMessageBytes bounds one incoming WebSocket message.
	MaxMessageBytes int64 `conf:"signaling_max_message_bytes"`
	// ConnectTimeout bounds the time from WebSocket open to "connect".
	ConnectTimeout time.Duration `conf:"signaling_connect_timeout"`
	// AnswerTimeout bounds the time from "offer" to "answer".
	AnswerTimeout time.Duration `conf:"signaling_answer_timeout"`
	// PingInterval is how often the server sends "ping".
	PingInterval time.Duration `conf:"signaling_ping_interval"`
	// PongTimeout closes a connection that sent nothing for this long.
	PongTimeout time.Duration `conf:"signaling_pong_timeout"`
	// AuthTimeout bounds one Authenticate call.
	AuthTimeout time.Duration
	// ICEServers go into every offer's config.iceServers.
	ICEServers []ICEServer
	// TURN, when set, is the built-in TURN server: every offer also names
	// it with credentials of the connection's own (revoked when the
	// connection ends) and sets iceTransportPolicy to "relay", as Sora
	// does (Sora's iOS SDK accepts no other value). Without it the policy
	// is "all".
	TURN TURNServer
	// Version is sent as the offer's "version".
	Version string
	// Logger receives the logs; nil discards them.
	Logger *slog.Logger
	// Authenticator decides on each connect; nil allows everything.
	Authenticator Authenticator
	// Events receives connection events; nil drops them.
	Events EventSink
	// SessionGate, when set, holds a new session's connections before
	// their offer until the session is ready (session.created's reply).
	SessionGate SessionGate
	// Placement, in a cluster, decides before any offer whether a
	// channel is served here or the client is redirected; nil serves
	// every channel here.
	Placement Placement
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// UpdateFirst and UpdateEvery schedule the connection.updated event
	// of an established connection: UpdateFirst after it was created,
	// then every UpdateEvery (Sora: 15 s, then every minute).
	UpdateFirst, UpdateEvery time.Duration
}

// TURNServer issues TURN credentials per connection; relay.Server is one.
type TURNServer interface {
	// URLs are the server's turn: URLs.
	URLs() []string
	// Credentials issues a username and password for a connection.
	Credentials(connectionID string) (username, password string, err error)
	// Revoke ends a username's credentials.
	Revoke(username string)
}

// ICEServer is one entry of the offer's config.iceServers.
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username"`
	Credential string   `json:"credential"`
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		MaxMessageBytes: 64 << 10,
		ConnectTimeout:  10 * time.Second,
		AnswerTimeout:   30 * time.Second,
		PingInterval:    5 * time.Second,
		PongTimeout:     30 * time.Second,
		AuthTimeout:     10 * time.Second,
		Version:         "kiroku",
		UpdateFirst:     15 * time.Second,
		UpdateEvery:     time.Minute,
	}
}

// Validate reports invalid settings.
func (c *Config) Validate() error {
	var errs []error
	if _, err := forwardedSources(c.ForwardedSources); err != nil {
		errs = append(errs, err)
	} else if c.ForwardedHeaders && len(c.ForwardedSources) == 0 {
		errs = append(errs, errors.New("signaling_forwarded_headers needs signaling_forwarded_sources (the proxy's addresses)"))
	}
	if c.MaxMessageBytes < 1024 {
		errs = append(errs, fmt.Errorf("signaling_max_message_bytes %d is below 1024", c.MaxMessageBytes))
	}
	if c.ConnectTimeout <= 0 || c.AnswerTimeout <= 0 || c.PingInterval <= 0 || c.AuthTimeout <= 0 ||
		c.UpdateFirst <= 0 || c.UpdateEvery <= 0 {
		errs = append(errs, errors.New("signaling timeouts and intervals must be positive"))
	}
	if c.PongTimeout <= c.PingInterval {
		errs = append(errs, errors.New("signaling_pong_timeout must exceed signaling_ping_interval"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("signaling config: %w", err)
	}
	return nil
}
