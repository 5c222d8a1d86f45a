package relay

import (
	"cmp"
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

	"github.com/kiroku-sfu/kiroku/memudp"
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
	// Address6 is the SFU's IPv6 media address (sora.conf ipv6_address),
	// optional: with it the server also listens, relays from and lets
	// clients reach it, so that IPv6-only clients can relay too.
	Address6 string
	// Port is the UDP port clients reach the server on (turn_port).
	Port uint16
	// TCP also accepts TURN over TCP, for networks that block UDP
	// (turn_tcp).
	TCP bool
	// TCPListenPort is where TURN-TCP is accepted (turn_tcp_listen_port);
	// 0 means Port.
	TCPListenPort uint16
	// TCPPort is the port put in the turn:…?transport=tcp URL
	// (turn_tcp_port), e.g. 443 when nginx forwards it; 0 means
	// TCPListenPort.
	TCPPort uint16
	// TLS adds a turns: URL (turn_tls). TLS is terminated in front of
	// kiroku (nginx, as in Sora's 443 layout), which forwards the
	// plain TURN-TCP stream to TCPListenPort.
	TLS bool
	// TLSHost is the TURN-TLS URL's host (turn_tls_fqdn); empty means
	// Host. A certificate is issued for a name, so one is needed.
	TLSHost string
	// TLSPort is the TURN-TLS URL's port (turn_tls_port).
	TLSPort uint16
	// ProxyProtocol reads a PROXY protocol header (v1 or v2, as nginx's
	// proxy_protocol sends) on TURN-TCP connections from ProxySources:
	// the client's address is the header's.
	ProxyProtocol bool
	// ProxySources are the addresses or CIDR prefixes of the proxies
	// whose headers are believed; a header from anyone else is ignored.
	ProxySources []string
	// Host is the name or address put in the TURN URLs (sora.conf
	// turn_fqdn); empty means Address.
	Host string
	// Realm is the TURN realm.
	Realm string
	// Switch, if not nil, is the SFU's memudp.Switch: relays exchange
	// packets with the SFU's media sockets in memory.
	Switch *memudp.Switch
	// Logger receives the server's logs; nil discards them.
	Logger *slog.Logger
}

// Validate reports what makes the configuration unusable.
func (c *Config) Validate() error {
	ip := net.ParseIP(c.Address)
	if ip == nil || ip.To4() == nil || ip.IsUnspecified() {
		return fmt.Errorf("turn needs ipv4_address set to this host's IPv4 address, got %q", c.Address)
	}
	if c.Address6 != "" {
		ip6 := net.ParseIP(c.Address6)
		if ip6 == nil || ip6.To4() != nil || ip6.IsUnspecified() || ip6.IsLinkLocalUnicast() || ip6.IsMulticast() {
			return fmt.Errorf("turn on IPv6 needs ipv6_address set to a routable IPv6 address of this host, got %q", c.Address6)
		}
	}
	if c.Port == 0 {
		return errors.New("turn_port must not be 0")
	}
	if c.Realm == "" {
		return errors.New("turn_realm must not be empty")
	}
	if c.TLS && c.tlsHost() == "" {
		return errors.New("turn_tls needs turn_tls_fqdn or turn_fqdn: a certificate names a host")
	}
	if c.TLS && c.TLSPort == 0 {
		return errors.New("turn_tls_port must not be 0")
	}
	if c.TLS && !c.TCP {
		return errors.New("turn_tls needs turn_tcp: the TLS proxy forwards TURN-TCP to turn_tcp_listen_port")
	}
	if c.ProxyProtocol && !c.TCP {
		return errors.New("turn_tcp_proxy_protocol needs turn_tcp")
	}
	if _, err := c.proxyNets(); err != nil {
		return err
	}
	return nil
}

// tcpListenPort is where TURN-TCP is accepted.
func (c *Config) tcpListenPort() uint16 { return cmp.Or(c.TCPListenPort, c.Port) }

// tcpURLPort is the port of the TURN-TCP URL.
func (c *Config) tcpURLPort() uint16 { return cmp.Or(c.TCPPort, c.tcpListenPort()) }

// tlsHost is the host of the TURN-TLS URL.
func (c *Config) tlsHost() string { return cmp.Or(c.TLSHost, c.Host) }

// proxyNets parses ProxySources; with ProxyProtocol at least one is
// needed.
func (c *Config) proxyNets() ([]*net.IPNet, error) {
	if !c.ProxyProtocol {
		return nil, nil
	}
	if len(c.ProxySources) == 0 {
		return nil, errors.New("turn_tcp_proxy_protocol needs turn_tcp_proxy_protocol_sources (the proxy's addresses)")
	}
	var out []*net.IPNet
	for _, src := range c.ProxySources {
		if _, n, err := net.ParseCIDR(src); err == nil {
			out = append(out, n)
			continue
		}
		ip := net.ParseIP(src)
		if ip == nil {
			return nil, fmt.Errorf("turn_tcp_proxy_protocol_sources: %q is not an address or CIDR prefix", src)
		}
		bits := 128
		if ip.To4() != nil {
			ip, bits = ip.To4(), 32
		}
		out = append(out, &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)})
	}
	return out, nil
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
	proxies        []*proxyListener // one per TURN-TCP listener with ProxyProtocol
	ip6            net.IP           // the SFU's IPv6 address; nil without Address6

	closeOnce sync.Once
	closeErr  error
}

// Stats are the server's totals since it started.
type Stats struct {
	// UDPAllocations and TCPAllocations count the relays clients
	// allocated over TURN-UDP and TURN-TCP.
	UDPAllocations, TCPAllocations uint64
	// IgnoredProxyHeaders counts PROXY headers from sources not trusted;
	// MalformedProxyHeaders the trusted connections closed for a broken
	// one.
	IgnoredProxyHeaders, MalformedProxyHeaders uint64
	// MemoryDatagrams counts the datagrams relays and the SFU exchanged
	// in memory (Config.Switch); MemoryDropped those dropped because the
	// receiver had fallen a queue behind.
	MemoryDatagrams, MemoryDropped uint64
}

// Stats returns the server's totals.
func (s *Server) Stats() Stats {
	mem := s.cfg.Switch.Stats()
	st := Stats{UDPAllocations: s.udpAllocations.Load(), TCPAllocations: s.tcpAllocations.Load(),
		MemoryDatagrams: mem.Handed, MemoryDropped: mem.Dropped}
	for _, p := range s.proxies {
		st.IgnoredProxyHeaders += p.ignored.Load()
		st.MalformedProxyHeaders += p.malformed.Load()
	}
	return st
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
	if cfg.Address6 != "" {
		s.ip6 = net.ParseIP(cfg.Address6)
	}
	quiet := logging.NewDefaultLoggerFactory()
	quiet.DefaultLogLevel = logging.LogLevelDisabled
	sc := turn.ServerConfig{
		Realm:        cfg.Realm,
		AuthHandler:  s.authenticate,
		QuotaHandler: s.underQuota,
		EventHandler: turn.EventHandler{
			OnAllocationCreated: func(client, _ net.Addr, _, user, _ string, _ net.Addr, _ int) {
				s.countAllocation(user, 1)
				// The protocol argument is the relayed transport (UDP for
				// WebRTC); how the client reached the server is its
				// address's type.
				transport := "udp"
				if _, overTCP := client.(*net.TCPAddr); overTCP {
					s.tcpAllocations.Add(1)
					transport = "tcp"
				} else {
					s.udpAllocations.Add(1)
				}
				// Behind nginx, client is the address its PROXY header named.
				s.log.Info("turn allocation", "client_address", client.String(), "transport", transport, "user", user)
			},
			OnAllocationDeleted: func(_, _ net.Addr, _, user, _ string) { s.countAllocation(user, -1) },
		},
		LoggerFactory: quiet,
	}
	for _, fam := range s.families() {
		if err := s.listen(&sc, fam); err != nil {
			return nil, errors.Join(err, closeListeners(sc))
		}
	}
	srv, err := turn.NewServer(sc)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("relay: start: %w", err), closeListeners(sc))
	}
	s.turn = srv
	return s, nil
}

// family is one address family the server serves: its network suffix
// ("4", "6"), the SFU's address and IP in it.
type family struct {
	suffix, address string
	ip              net.IP
}

func (s *Server) families() []family {
	out := []family{{"4", s.cfg.Address, s.ip}}
	if s.ip6 != nil {
		out = append(out, family{"6", s.cfg.Address6, s.ip6})
	}
	return out
}

// listen opens the UDP socket (and the TCP listener) of one family and
// adds them to sc. Relayed ports are only used between the relay and the
// SFU on this host, so an ephemeral port on the media address is enough.
func (s *Server) listen(sc *turn.ServerConfig, fam family) error {
	gen := func() turn.RelayAddressGenerator {
		static := &turn.RelayAddressGeneratorStatic{RelayAddress: fam.ip, Address: fam.address}
		if s.cfg.Switch == nil {
			return static
		}
		return &switchedRelays{RelayAddressGeneratorStatic: static, sw: s.cfg.Switch}
	}
	addr := net.JoinHostPort(fam.address, strconv.Itoa(int(s.cfg.Port)))
	udp, err := net.ListenPacket("udp"+fam.suffix, addr)
	if err != nil {
		return fmt.Errorf("relay: listen udp %s: %w", addr, err)
	}
	sc.PacketConnConfigs = append(sc.PacketConnConfigs, turn.PacketConnConfig{PacketConn: udp,
		RelayAddressGenerator: gen(), PermissionHandler: s.permit})
	if !s.cfg.TCP {
		return nil
	}
	tcp, err := s.listenTCP(fam)
	if err != nil {
		return err
	}
	sc.ListenerConfigs = append(sc.ListenerConfigs, turn.ListenerConfig{Listener: tcp, RelayAddressGenerator: gen(),
		PermissionHandler: s.permit})
	return nil
}

// closeListeners closes what listen opened, when starting fails.
func closeListeners(sc turn.ServerConfig) error {
	var errs []error
	for _, p := range sc.PacketConnConfigs {
		errs = append(errs, p.PacketConn.Close())
	}
	for _, l := range sc.ListenerConfigs {
		errs = append(errs, l.Listener.Close())
	}
	return errors.Join(errs...)
}

// listenTCP opens the TURN-TCP listener, reading PROXY headers when
// configured.
func (s *Server) listenTCP(fam family) (net.Listener, error) {
	listen := net.JoinHostPort(fam.address, strconv.Itoa(int(s.cfg.tcpListenPort())))
	tcp, err := net.Listen("tcp"+fam.suffix, listen)
	if err != nil {
		return nil, fmt.Errorf("relay: listen tcp %s: %w", listen, err)
	}
	if !s.cfg.ProxyProtocol {
		return tcp, nil
	}
	nets, _ := s.cfg.proxyNets() // validated
	p := newProxyListener(tcp, nets, s.log)
	s.proxies = append(s.proxies, p)
	return p, nil
}

// URLs are the TURN URLs clients are given: UDP, then TCP and TLS when
// enabled, each with its own host and port. Without a host name
// (turn_fqdn) each family's address is named, IPv4 first.
func (s *Server) URLs() []string {
	hosts := []string{s.cfg.Host}
	if s.cfg.Host == "" {
		hosts = []string{s.cfg.Address}
		if s.cfg.Address6 != "" {
			hosts = append(hosts, s.cfg.Address6)
		}
	}
	var urls []string
	for _, host := range hosts {
		urls = append(urls, "turn:"+net.JoinHostPort(host, strconv.Itoa(int(s.cfg.Port)))+"?transport=udp")
	}
	if s.cfg.TCP {
		for _, host := range hosts {
			urls = append(urls, "turn:"+net.JoinHostPort(host, strconv.Itoa(int(s.cfg.tcpURLPort())))+"?transport=tcp")
		}
	}
	if s.cfg.TLS {
		urls = append(urls, "turns:"+net.JoinHostPort(s.cfg.tlsHost(), strconv.Itoa(int(s.cfg.TLSPort)))+"?transport=tcp")
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
func (s *Server) permit(_ net.Addr, peer net.IP) bool {
	return peer.Equal(s.ip) || (s.ip6 != nil && peer.Equal(s.ip6))
}

// Close stops the server and every allocation. It is idempotent.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		if err := s.turn.Close(); err != nil {
			s.closeErr = fmt.Errorf("relay: close: %w", err)
		}
	})
	return s.closeErr
}
