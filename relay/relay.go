package relay

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/pion/logging"
	"github.com/pion/turn/v5"
)

// maxAllocations bounds the relays one connection's credentials may hold
// at once: a browser allocates one per TURN URL and local interface, a
// handful; the bound keeps a client from using up the host's ports.
const maxAllocations = 8

// Config describes the TURN server.
type Config struct {
	// Address is the SFU's media address (sora.conf ipv4_address): the
	// server listens on it, relays from it, and lets clients reach only
	// it. It must be an IPv4 address of this host.
	Address string
	// Port is the UDP (and, with TCP, TCP) port clients reach the server
	// on.
	Port uint16
	// TCP also accepts TURN over TCP on Port, for networks that block UDP.
	TCP bool
	// Host is the name or address put in the TURN URLs (sora.conf
	// turn_fqdn); empty means Address.
	Host string
	// Realm is the TURN realm.
	Realm string
	// Logger receives the server's logs; nil discards them.
	Logger *slog.Logger
}

// Validate reports what makes the configuration unusable.
func (c *Config) Validate() error {
	ip := net.ParseIP(c.Address)
	if ip == nil || ip.To4() == nil || ip.IsUnspecified() {
		return fmt.Errorf("turn needs ipv4_address set to this host's IPv4 address, got %q", c.Address)
	}
	if c.Port == 0 {
		return errors.New("turn_port must not be 0")
	}
	if c.Realm == "" {
		return errors.New("turn_realm must not be empty")
	}
	return nil
}

// Server is a running TURN server.
type Server struct {
	cfg  Config
	ip   net.IP
	turn *turn.Server
	log  *slog.Logger

	mu     sync.Mutex
	creds  map[string][]byte // username -> long-term key
	allocs map[string]int    // username -> live allocations

	udpAllocations atomic.Uint64
	tcpAllocations atomic.Uint64

	closeOnce sync.Once
	closeErr  error
}

// Stats are the server's totals since it started.
type Stats struct {
	// UDPAllocations and TCPAllocations count the relays clients
	// allocated over TURN-UDP and TURN-TCP.
	UDPAllocations, TCPAllocations uint64
}

// Stats returns the server's totals.
func (s *Server) Stats() Stats {
	return Stats{UDPAllocations: s.udpAllocations.Load(), TCPAllocations: s.tcpAllocations.Load()}
}

// New starts the server on cfg.Address:cfg.Port.
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("relay: %w", err)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, ip: net.ParseIP(cfg.Address).To4(), log: cfg.Logger, creds: make(map[string][]byte),
		allocs: make(map[string]int)}
	listen := net.JoinHostPort(cfg.Address, strconv.Itoa(int(cfg.Port)))
	udp, err := net.ListenPacket("udp4", listen)
	if err != nil {
		return nil, fmt.Errorf("relay: listen udp %s: %w", listen, err)
	}
	gen := func() turn.RelayAddressGenerator {
		// Relayed ports are only used between the relay and the SFU on this
		// host, so an ephemeral port on the media address is enough.
		return &turn.RelayAddressGeneratorStatic{RelayAddress: s.ip, Address: cfg.Address}
	}
	quiet := logging.NewDefaultLoggerFactory()
	quiet.DefaultLogLevel = logging.LogLevelDisabled
	sc := turn.ServerConfig{
		Realm:        cfg.Realm,
		AuthHandler:  s.authenticate,
		QuotaHandler: s.underQuota,
		EventHandler: turn.EventHandler{
			OnAllocationCreated: func(_, _ net.Addr, protocol, user, _ string, _ net.Addr, _ int) {
				s.countAllocation(user, 1)
				if protocol == "TCP" {
					s.tcpAllocations.Add(1)
				} else {
					s.udpAllocations.Add(1)
				}
			},
			OnAllocationDeleted: func(_, _ net.Addr, _, user, _ string) { s.countAllocation(user, -1) },
		},
		LoggerFactory: quiet,
		PacketConnConfigs: []turn.PacketConnConfig{{PacketConn: udp, RelayAddressGenerator: gen(),
			PermissionHandler: s.permit}},
	}
	if cfg.TCP {
		tcp, err := net.Listen("tcp4", listen)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("relay: listen tcp %s: %w", listen, err), udp.Close())
		}
		sc.ListenerConfigs = []turn.ListenerConfig{{Listener: tcp, RelayAddressGenerator: gen(), PermissionHandler: s.permit}}
	}
	srv, err := turn.NewServer(sc)
	if err != nil {
		errs := []error{fmt.Errorf("relay: start: %w", err), udp.Close()}
		for _, l := range sc.ListenerConfigs {
			errs = append(errs, l.Listener.Close())
		}
		return nil, errors.Join(errs...)
	}
	s.turn = srv
	return s, nil
}

// URLs are the TURN URLs clients are given.
func (s *Server) URLs() []string {
	host := s.cfg.Host
	if host == "" {
		host = s.cfg.Address
	}
	hp := net.JoinHostPort(host, strconv.Itoa(int(s.cfg.Port)))
	urls := []string{"turn:" + hp + "?transport=udp"}
	if s.cfg.TCP {
		urls = append(urls, "turn:"+hp+"?transport=tcp")
	}
	return urls
}

// Credentials issues a TURN username and password for one connection;
// they work until Revoke(username).
func (s *Server) Credentials(connectionID string) (username, password string, err error) {
	secret := make([]byte, 18)
	if _, err := rand.Read(secret); err != nil {
		return "", "", fmt.Errorf("relay: credentials: %w", err)
	}
	password = base64.RawURLEncoding.EncodeToString(secret)
	s.mu.Lock()
	s.creds[connectionID] = turn.GenerateAuthKey(connectionID, s.cfg.Realm, password)
	s.mu.Unlock()
	return connectionID, password, nil
}

// Revoke ends a connection's credentials: no new allocation or refresh
// succeeds with them.
func (s *Server) Revoke(username string) {
	s.mu.Lock()
	delete(s.creds, username)
	s.mu.Unlock()
}

func (s *Server) authenticate(ra *turn.RequestAttributes) (string, []byte, bool) {
	s.mu.Lock()
	key, ok := s.creds[ra.Username]
	s.mu.Unlock()
	if !ok {
		s.log.Debug("turn: unknown username", "username", ra.Username, "from", ra.SrcAddr)
	}
	return ra.Username, key, ok
}

// underQuota admits an allocation while the user holds fewer than
// maxAllocations.
func (s *Server) underQuota(user, _ string, _ net.Addr) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.allocs[user] < maxAllocations
}

func (s *Server) countAllocation(user string, delta int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.allocs[user] += delta; s.allocs[user] <= 0 {
		delete(s.allocs, user)
	}
}

// permit lets clients send only to the SFU's media address.
func (s *Server) permit(_ net.Addr, peer net.IP) bool { return peer.Equal(s.ip) }

// Close stops the server and every allocation. It is idempotent.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		if err := s.turn.Close(); err != nil {
			s.closeErr = fmt.Errorf("relay: close: %w", err)
		}
	})
	return s.closeErr
}
